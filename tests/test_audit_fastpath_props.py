"""The fast path is sound for any lint-clean plan, not only the shipped one.

Hypothesis writes plans (types, enums, bounds, lengths, patterns with non-ASCII literals and
classes and bounded repeats, nullable, required and optional keys, a pattern on distinct_id)
and raw rows for them (escapes in keys and values, non-ASCII, every JSON number form, repeated
keys, nested values, bare CR, BOM, NUL). Every line the C scanner calls clean must have no
finding under the exact checks (an unscreened DuckDB audit of the same file), and the run must
see both clean lines and lines with findings, so it is not vacuous. Each DFA is compared with
RE2 itself (`re2`, the binding the reference engine uses) on random UTF-8 text.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.audit import dfa, scan, screen_for
from compiler.plan.pipeline import load_plan
from tests.test_audit_linescan import _exact_bad_rows

re2 = pytest.importorskip("re2")  # google-re2: a core dependency (issue 13)

CLEAN = (scan.CLEAN, scan.KEPT)

# Pattern pieces: non-ASCII literals and classes, negations, ASCII-only escapes, any character.
ATOMS = [".", "a", "é", "€", "😀", "[a-c]", "[é-ü]", "[^a]", "[^é]", r"\d", r"\w", r"\s", r"\D"]
ATOMS += [r"[^\d]", "[a-zé]", "(?:ab|é)", "[ -~]", r"\.", "[^\\x00-\\x7f]"]
TEXT = ["", "a", "ab", "abc", "é", "éa", "aé", "ééé", "€€", "😀", "1", "12", "a1é", " ", "\u00a0"]
TEXT += ["٣", "aaaa", "ü", "Ab", "a.b", "ab\n"]


@st.composite
def patterns(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        atom = draw(st.sampled_from(ATOMS))
        low = draw(st.integers(0, 3))
        repeat = draw(
            st.sampled_from(["", "", "+", "*", "?", f"{{{low}}}", f"{{{low},{low + 2}}}"])
        )
        parts.append(atom + repeat)
    return draw(st.sampled_from(["^", ""])) + "".join(parts) + draw(st.sampled_from(["$", ""]))


@st.composite
def properties(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["string", "enum", "pattern", "length", "integer", "number", "boolean", "email"]
        )
    )
    prop: dict[str, Any] = {"description": name}
    if kind in ("string", "pattern", "length", "email", "enum"):
        prop["type"] = "string"
    else:
        prop["type"] = kind
    if kind == "enum":
        prop["enum"] = draw(
            st.lists(
                st.sampled_from(["a", "é", "éa", "abc", "web", "x y"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
    elif kind == "pattern":
        prop["pattern"] = draw(patterns())
    elif kind == "length":
        low = draw(st.integers(0, 3))
        prop["min_length"] = low
        if draw(st.booleans()):
            prop["max_length"] = low + draw(st.integers(0, 2))
    elif kind == "email":
        prop["format"] = "email"
        prop["pii"] = True
    elif kind in ("integer", "number"):
        if draw(st.booleans()):
            prop["minimum"] = draw(st.sampled_from([0, 1, 5]))
        if draw(st.booleans()):
            prop["maximum"] = draw(st.sampled_from([5, 10, 1000]))
        if prop.get("minimum", 0) > prop.get("maximum", 10**9):
            prop.pop("maximum")
    if draw(st.booleans()):
        prop["nullable"] = True
    return prop


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    names = [f"p_{k}" for k in range(draw(st.integers(1, 4)))]
    props = {n: draw(properties(n)) for n in names}
    distinct: dict[str, Any] = {"type": "string", "description": "PostHog id."}
    if draw(st.booleans()):
        distinct["pattern"] = draw(patterns())
    elif draw(st.booleans()):
        distinct["min_length"], distinct["max_length"] = 2, 3
    events = {}
    for e in range(draw(st.integers(1, 2))):
        # min_size 1: a plan whose events use no property breaks duck.py (VALUES with no rows)
        keys = draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=len(names)))
        split = draw(st.integers(0, len(keys)))
        event: dict[str, Any] = {"category": "product", "description": "x", "layers": ["server"]}
        if keys[:split]:
            event["required"] = keys[:split]
        if keys[split:]:
            event["optional"] = keys[split:]
        events[f"ev_{e}"] = event
    return {
        "plan": {
            "name": "Gen",
            "version": "0.1.0",
            "description": "generated",
            "schema_base_uri": "https://example.test/schemas/",
        },
        "layers": {"server": {"runtime": "server", "description": "Backend."}},
        "categories": {"product": {"title": "Product", "description": "Product events."}},
        "properties": {
            "event": {"type": "string", "description": "Event name."},
            "timestamp": {"type": "string", "format": "date-time", "description": "When."},
            "distinct_id": distinct,
            **props,
        },
        "envelope": {
            "event": {"placement": "top", "required": True},
            "timestamp": {"placement": "top", "required": True},
            "distinct_id": {"placement": "top", "required": True},
        },
        "events": events,
    }


def _value_texts(prop: dict[str, Any]) -> list[bytes]:
    """Raw JSON texts, valid and not, for a property."""
    out = [b"null", b"true", b"0", b"-0", b"1", b"1.0", b"1.5", b"5", b"10", b"1000", b"1001"]
    out += [b"-1", b"1e2", b"1E+2", b"0.5e-1", b"12345678901234567890", b"1e400", b"NaN"]
    out += [b"Infinity", b"-Infinity", b'{"a":1}', b'["a"]', b"[]", b'"a"', b'"\\u00e9a"']
    out += [b'"a\\"b"', b'"a\\nb"', b'"\xc3\xa9"', b'"x\rb"', b'"a\x00"', b"01", b".5", b"+1"]
    out += [b'"person@example.com"', b'"person\\u0040example.com"', b'"a b"', b'"web"']
    out += [json.dumps(t, ensure_ascii=False).encode() for t in TEXT]
    out += [json.dumps(t).encode() for t in TEXT if not t.isascii()]
    for v in prop.get("enum", []):
        out += [json.dumps(v, ensure_ascii=False).encode(), json.dumps(v).encode()]
    return out


def _lines(doc: dict[str, Any], rng: random.Random) -> list[bytes]:
    props = doc["properties"]
    did_texts = [json.dumps(t, ensure_ascii=False).encode() for t in TEXT if t]
    did_texts += [json.dumps(t).encode() for t in TEXT if t and not t.isascii()]
    lines = []
    for n in range(60):
        name = rng.choice(sorted(doc["events"]))
        event = doc["events"][name]
        keys = event.get("required", []) + event.get("optional", [])
        members = []
        for key in keys:
            if key in event.get("required", []) or rng.random() < 0.7:
                members.append((key, rng.choice(_value_texts(props[key]))))
        r = rng.random()
        if r < 0.1 and members:
            members.append(rng.choice(members))  # a repeated key
        elif r < 0.2 and members:
            key, value = members[0]
            members.append((key, rng.choice(_value_texts(props[key]))))
        elif r < 0.25:
            members.append(("extra", b'"x"'))
        elif r < 0.3 and members:
            members[0] = ("p\\u005f" + members[0][0][2:], members[0][1])  # p_k, escaped
        body = b",".join(b'"' + k.encode() + b'":' + v for k, v in members)
        top = [
            b'"uuid":"00000000-0000-4000-8000-%012d"' % n,
            b'"event":"' + name.encode() + b'"',
            b'"distinct_id":' + rng.choice(did_texts),
            b'"timestamp":"2026-01-12T10:00:00.000000+00:00"',
            b'"properties":{' + body + b"}",
        ]
        line = b"{" + b",".join(top) + b"}"
        r = rng.random()
        if r < 0.04:
            line = b"\xef\xbb\xbf" + line
        elif r < 0.08:
            line += b"\r"
        elif r < 0.1:
            line = line.replace(b",", b",\r", 1)
        elif r < 0.12:
            line = line[:-1] + b",}"
        lines.append(line)
    return lines


def _check_dfas(regexes: list[str], rng: random.Random) -> None:
    """Each column pattern's DFA (search, as RE2's partial match) agrees with RE2."""
    table = dfa.compile_all([(r, True) for r in regexes])
    alphabet = "aAbcé€😀ü1٣ _.\n\u00a0-~"
    for k, regex in enumerate(regexes):
        if table.starts[k] == 0:
            continue  # refused: matches nothing, so every such value goes to DuckDB
        compiled = re2.compile(regex)
        texts = TEXT + [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7))) for _ in range(150)
        ]
        for text in texts:
            expected = compiled.search(text) is not None
            assert table.fullmatch(k, text.encode()) == expected, (regex, text)


def test_any_plan_the_scanner_calls_clean_has_no_finding(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seen: Counter[str] = Counter()

    @settings(
        max_examples=int(__import__("os").environ.get("FASTPATH_EXAMPLES", "18")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=True,
    )
    @given(doc=plans(), seed=st.integers(0, 2**32))
    def check(doc: dict[str, Any], seed: int) -> None:
        directory = tmp_path_factory.mktemp("plan")
        (directory / "plan.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
        result = load_plan(directory)
        if result.errors:
            seen["not lint-clean"] += 1
            return
        plan = result.plan
        rng = random.Random(seed)
        patterns = [p["pattern"] for p in doc["properties"].values() if "pattern" in p]
        _check_dfas(patterns, rng)
        lines = _lines(doc, rng)
        data = b"".join(line + b"\n" for line in lines)
        path = Path(directory) / "rows.jsonl"
        path.write_bytes(data)
        status, _, _, _ = scan.scan_bytes(data, screen_for(plan).lines)
        bad, _ = _exact_bad_rows(plan, path)
        clean = {n for n, s in enumerate(status.tolist(), 1) if s in CLEAN}
        assert not clean & bad, [lines[n - 1] for n in sorted(clean & bad)]
        seen["plans"] += 1
        seen["clean"] += len(clean)
        seen["bad"] += len(bad)
        seen["clean non-ASCII"] += sum(1 for n in clean if not lines[n - 1].isascii())

    check()
    assert seen["plans"] >= 10, seen
    assert seen["clean"] >= 50 and seen["bad"] >= 50 and seen["clean non-ASCII"] >= 5, seen


def test_the_confirmed_false_clean() -> None:
    """`^.{3}$` on "éa" (3 bytes, 2 characters): RE2 says no, so the DFA must."""
    table = dfa.compile_all([("^.{3}$", True), ("^[^a]{2}$", True), ("^[é-ü]{2}$", True)])
    assert not table.fullmatch(0, "éa".encode()) and table.fullmatch(0, "éab".encode())
    assert not table.fullmatch(1, "é".encode()) and table.fullmatch(1, "éé".encode())
    assert table.fullmatch(2, "éü".encode()) and not table.fullmatch(2, "éý".encode())


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    regex=patterns(),
    texts=st.lists(st.text(alphabet="aAbé€😀ü1٣ _.\n\u00a0\x00", max_size=8), max_size=20),
)
def test_dfas_match_what_re2_matches(regex: str, texts: list[str]) -> None:
    table = dfa.compile_all([(regex, True), (regex, False)])
    compiled = re2.compile(regex)
    for text in [*texts, *TEXT]:
        if table.starts[0]:
            assert table.fullmatch(0, text.encode()) == (compiled.search(text) is not None), (
                regex,
                text,
            )
        if table.starts[1]:
            assert table.fullmatch(1, text.encode()) == (compiled.fullmatch(text) is not None), (
                regex,
                text,
            )


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(doc=plans(), seed=st.integers(0, 2**32))
def test_generated_plans_and_lines_through_the_scanner_alone(
    tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any], seed: int
) -> None:
    """The same plans and raw lines, scanned without DuckDB (what the sanitizer run walks),
    also cut at every line and without a final newline."""
    directory = tmp_path_factory.mktemp("plan")
    (directory / "plan.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    result = load_plan(directory)
    if result.errors:
        return
    tables = screen_for(result.plan).lines
    lines = _lines(doc, random.Random(seed))
    data = b"\n".join(lines)
    status, _, _, offsets = scan.scan_bytes(data, tables)
    assert len(status) == len(lines) and offsets[0] == 0
    for line in lines[:10]:
        for cut in range(0, len(line), 7):
            scan.scan_bytes(line[:cut], tables)
