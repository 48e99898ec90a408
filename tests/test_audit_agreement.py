"""Property-based agreement: generated plans and byte-level rows, every engine, same findings.

Plans: 1 to 4 properties of every scalar type with enums, bounds, lengths, RE2 patterns (non-
ASCII classes, bounded repeats, anchors, flags), nullable, required or optional. Rows: JSON
texts written by hand (not by json.dumps) with escapes in keys and values, non-ASCII, every JSON
number form (-0, fractions, exponents, 1e400, 400 digits), duplicate keys, nested values, a
bare CR, a BOM, NUL (escaped and raw). The DuckDB audit (with the C line scanner, with the SQL
screen alone, unscreened) and the jsonschema reference must agree on every row: each row has
its own uuid and findings list every example, so equal documents mean equal per-row findings.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.audit.findings import EXAMPLES
from tests.test_audit_semantics import TS, every_engine, write_plan

PATTERNS = [
    "^[a-zé]{1,3}$",
    "^.{2}$",
    r"^\d{2,4}$",
    "^ab|cd$",
    "(?i)^x",
    "^[à-ÿ]+$",
    "é",
    "^[A-Z]{3}$",
    r"^\w+$",
    r"^a\sb$",
    "^(?:ab){1,2}c?$",
]
STRINGS = [
    "",
    "a",
    "ab",
    "abc",
    "é",
    "éa",
    "éèê",
    "x",
    "X1",
    "12",
    "1234",
    "\u0663\u0663",
    "ab",
    "cd",
    "abc",
    "ABC",
    "a b",
    "a\u00a0b",
    "a\nb",
    "a\n",
    "😀😀",
    "e\u0301",
    "ababc",
    "john@example.com",
    "+1 555 123 4567",
    "crop",
]
NUMBERS = [
    "0",
    "-0",
    "1",
    "-1",
    "3",
    "1.0",
    "1.5",
    "-2.5",
    "1e2",
    "1E+2",
    "2.5e-3",
    "10",
    "12345678901234567890",
    "1e308",
    "1e400",
    "-1e400",
    "1" * 400,
    "0.1",
    "100",
]


@st.composite
def plans(draw: Any) -> dict[str, Any]:
    props: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["string", "integer", "number", "boolean"]))
        body: dict[str, Any] = {"type": kind}
        if kind == "string":
            shape = draw(st.sampled_from(["enum", "pattern", "length", "plain"]))
            if shape == "enum":
                body["enum"] = draw(
                    st.lists(st.sampled_from(STRINGS[1:12]), min_size=1, max_size=3, unique=True)
                )
            elif shape == "pattern":
                body["pattern"] = draw(st.sampled_from(PATTERNS))
            elif shape == "length":
                low = draw(st.integers(0, 2))
                body["min_length"] = low
                body["max_length"] = low + draw(st.integers(0, 2))
        elif kind in ("integer", "number"):
            if draw(st.booleans()):
                body["minimum"] = draw(st.sampled_from([0, 1, -5]))
            if draw(st.booleans()):
                body["maximum"] = draw(st.sampled_from([10, 100, 1e300]))
            if kind == "integer" and draw(st.booleans()):
                body = {"type": kind, "enum": [1, 3, 10]}
        if draw(st.booleans()):
            body["nullable"] = True
        props[f"p{i}"] = body
    names = sorted(props)
    required = [n for n in names if draw(st.booleans())]
    return {
        "props": props,
        "required": required,
        "optional": [n for n in names if n not in required],
    }


def _string(text: str, draw: Any) -> str:
    """A JSON string, escaped in one of several legal ways."""
    how = draw(st.sampled_from(["plain", "ascii", "u-escape"]))
    if how == "plain":
        return json.dumps(text, ensure_ascii=False)
    if how == "ascii":
        return json.dumps(text)
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in text) + '"'


@st.composite
def value_text(draw: Any) -> str:
    kind = draw(st.sampled_from(["string"] * 3 + ["number"] * 3 + ["literal", "nested", "broken"]))
    if kind == "string":
        return _string(draw(st.sampled_from(STRINGS)), draw)
    if kind == "number":
        return draw(st.sampled_from(NUMBERS))
    if kind == "literal":
        return draw(st.sampled_from(["true", "false", "null"]))
    if kind == "nested":
        return draw(
            st.sampled_from(['{"a":1}', '[1,"x"]', "[]", '{"a":{"b":null}}', '{"k":1,"k":2}'])
        )
    return draw(
        st.sampled_from(
            [
                "NaN",
                "Infinity",
                "-Infinity",
                '"a\rb"',
                '"a\u0000b"',
                '"a\\u0000b"',
                "01",
                "+1",
                ".5",
                "1.",
                "'x'",
            ]
        )
    )


@st.composite
def row_text(draw: Any, plan: dict[str, Any], uuid: str) -> str:
    keys = ["extra", 'a"b', "$x", "é", "a\\b", *plan["props"]]
    members = [
        f"{_string(key, draw)}:{draw(value_text())}"
        for key in plan["props"]
        if draw(st.integers(0, 3)) > 0
    ]
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(keys))
        members.append(f"{_string(key, draw)}:{draw(value_text())}")
    if members and draw(st.integers(0, 4)) == 0:
        members.append(members[0])  # a duplicate key
    sep = draw(st.sampled_from([",", ", ", ",\r", " ,"]))
    props = "{" + sep.join(members) + ("," if draw(st.integers(0, 9)) == 0 else "") + "}"
    if draw(st.integers(0, 9)) == 0:
        props = draw(st.sampled_from(["null", "[]", '"x"']))
    top = [f'"uuid":"{uuid}"', '"event":"thing_done"', '"distinct_id":"d1"', f'"timestamp":"{TS}"']
    if draw(st.integers(0, 4)) == 0:
        top.append('"source":' + draw(st.sampled_from(['"server"', '"web"', '"tv"', "null"])))
    text = "{" + ",".join(top) + ',"properties":' + props + "}"
    start = draw(st.sampled_from(["", "", "", "\ufeff", " "]))
    return start + text


STATS: Counter[str] = Counter()


# derandomize: the same 20 cases every run, so the vacuity check below is stable in CI (a random
# draw once gave 34 unparseable rows of 60, under its floor of 30 parsed rows).
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(plan=plans(), data=st.data())
def test_engines_agree_on_generated_plans_and_rows(
    tmp_path: Path, plan: dict[str, Any], data: Any
) -> None:
    rows = [data.draw(row_text(plan, f"u{i}")) for i in range(min(EXAMPLES, 8))]
    root = tmp_path / f"case{STATS['cases']}"
    model = write_plan(root / "plan", plan["props"], plan["required"], plan["optional"])
    path = root / "rows.jsonl"
    path.write_bytes(("\n".join(rows) + "\n").encode("utf-8", "surrogatepass"))
    document = every_engine(model, [str(path)])
    STATS["cases"] += 1
    STATS["rows"] += len(rows)
    STATS["unparseable"] += document["rows_unparseable"]
    for finding in document["findings"]:
        if finding["kind"] not in ("never_seen", "unparseable_row"):
            STATS["violations"] += finding["count"]
            STATS[finding["kind"]] += finding["count"]


def test_generation_was_not_vacuous() -> None:
    """The rows above held every kind of verdict: clean, violating, unparseable."""
    assert STATS["cases"] >= 15
    assert STATS["unparseable"] >= 5
    assert STATS["violations"] >= 30
    assert STATS["rows"] - STATS["unparseable"] >= 30
    kinds = {"type_mismatch", "undocumented_property", "missing_required_property"}
    assert all(STATS[k] > 0 for k in kinds), STATS
