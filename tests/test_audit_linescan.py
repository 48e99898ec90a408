"""The C line scanner: a line it calls clean has no per-row finding, whatever the line holds.

The scanner reads raw bytes, so these tests attack it with raw bytes: whitespace, escapes,
invalid UTF-8, control characters, repeated keys, odd timestamps and envelope fields, lines
across chunk boundaries. Each verdict is checked against the exact checks (an unscreened
DuckDB audit of the same file), and whole audits with and without the scanner must agree.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.audit import dfa, open_screened, run_audit, scan, screen, screen_for
from compiler.audit.duck import VIOLATIONS
from compiler.audit.rules import FORMAT_PATTERNS, AuditRules
from compiler.exports import open_events
from tests.export_rows import posthog_row
from tests.test_audit_screen import EDGE_KEYS, EDGE_VALUES, ROW_KINDS_ONLY

CLEAN = (scan.CLEAN, scan.KEPT)


def test_the_scanner_is_built_here() -> None:
    # `pip install -e .` builds it (`make install` checks); without it the audit still works on
    # the SQL screen alone, but every test below fails rather than passing untested.
    assert scan.available()


def _user_row(plan, name: str, rng: random.Random, n: int) -> dict[str, Any]:
    """A valid row that carries a user_id, so the scanner may drop it (status 1)."""
    row = posthog_row(plan, name, rng, uuid=str(UUID(int=n + 1)))
    row["properties"].setdefault("user_id", "usr_abc123")
    return row


def _statuses(plan, data: bytes, strict: bool = False) -> list[int]:
    status, _, _, _ = scan.scan_bytes(data, screen_for(plan, strict_system=strict).lines)
    return [int(s) for s in status]


def _exact_bad_rows(plan, path: Path, strict: bool = False) -> tuple[set[int], int]:
    """Lines with a per-row finding, and the unparseable count, under the exact checks."""
    con = duckdb.connect()
    report = open_events(con, [str(path)])
    run_audit(con, report, plan, strict_system=strict)
    bad = {
        int(r)
        for (r,) in con.execute(
            f"SELECT DISTINCT _row FROM {VIOLATIONS} WHERE {ROW_KINDS_ONLY}"
        ).fetchall()
    }
    bad |= {e.line for e in report.examples}
    return bad, report.rows_unparseable


def _audits_agree(plan, path: Path, strict: bool = False) -> dict[str, Any]:
    fast_con, slow_con = duckdb.connect(), duckdb.connect()
    fast = run_audit(
        fast_con,
        open_screened(fast_con, [str(path)], screen_for(plan, strict_system=strict)),
        plan,
        strict_system=strict,
    ).to_json()
    slow = run_audit(
        slow_con, open_events(slow_con, [str(path)]), plan, strict_system=strict
    ).to_json()
    fast.pop("engine"), slow.pop("engine")
    assert fast == slow
    return fast


def _check(plan, tmp_path: Path, lines: list[bytes], strict: bool = False) -> list[int]:
    """Scan `lines`; assert no line the scanner calls clean has a finding, and that audits
    with and without the scanner agree. Returns the statuses."""
    data = b"".join(line + b"\n" for line in lines)
    path = tmp_path / "lines.jsonl"
    path.write_bytes(data)
    statuses = _statuses(plan, data, strict)
    bad, unparseable = _exact_bad_rows(plan, path, strict)
    clean = {n for n, s in enumerate(statuses, 1) if s in CLEAN}
    assert not clean & bad, [lines[n - 1] for n in clean & bad]
    _audits_agree(plan, path, strict)
    return statuses


def _compact(row: dict[str, Any]) -> bytes:
    return json.dumps(row, separators=(",", ":")).encode()


def test_valid_rows_of_every_event_pass_the_scanner(plan, tmp_path: Path) -> None:
    rng = random.Random(11)
    rows = [_user_row(plan, name, rng, n) for n, name in enumerate(sorted(plan.events))]
    statuses = _check(plan, tmp_path, [_compact(r) for r in rows])
    assert all(s in CLEAN for s in statuses), [
        r["event"] for r, s in zip(rows, statuses, strict=True) if s not in CLEAN
    ]
    # the events no cross-row check reads are dropped from DuckDB's work altogether
    assert statuses.count(scan.CLEAN) > len(rows) // 2


def _variants(plan) -> list[tuple[str, bytes]]:
    """(what, line): one valid line changed in one way each."""
    rng = random.Random(5)
    base = _user_row(plan, "ad_click", rng, 0)
    line = _compact(base)

    def with_top(**fields: Any) -> bytes:
        return _compact({**base, **fields})

    def with_props(**fields: Any) -> bytes:
        return _compact({**base, "properties": {**base["properties"], **fields}})

    def without(key: str) -> bytes:
        return _compact({k: v for k, v in base.items() if k != key})

    spaced = json.dumps(base).encode()
    return [
        ("untouched", line),
        ("python spacing", spaced),
        ("tabs", spaced.replace(b": ", b":\t")),
        ("crlf", line + b"\r"),
        ("leading space", b"  " + line),
        ("trailing garbage", line + b"x"),
        ("two objects", line + line),
        ("truncated", line[:-5]),
        ("not an object", b"[1,2]"),
        ("bare string", b'"ad_click"'),
        ("empty object", b"{}"),
        ("escaped event", line.replace(b'"ad_click"', b'"ad_cl\\u0069ck"')),
        ("escaped key", line.replace(b'"page_path"', b'"page_\\u0070ath"')),
        ("escaped top key", line.replace(b'"event"', b'"ev\\u0065nt"')),
        ("repeated key", line.replace(b'"device":', b'"device":"desktop","device":')),
        ("repeated top key", line.replace(b'"event":', b'"event":"ad_click","event":')),
        ("repeated event, other", line.replace(b'"event":', b'"event":"landing_view","event":')),
        ("unicode escape in value", with_props(page_path="/caf\u00e9")),
        ("raw utf-8 in value", line.replace(b'"/app"', '"/caf\u00e9"'.encode())),
        ("invalid utf-8", line.replace(b'"/app"', b'"/caf\xc3"')),
        ("overlong utf-8", line.replace(b'"/app"', b'"/\xc0\xaf"')),
        ("surrogate escape", line.replace(b'"/app"', b'"/\\ud800"')),
        ("raw tab in string", line.replace(b'"/app"', b'"/a\tpp"')),
        ("bad escape", line.replace(b'"/app"', b'"/a\\xpp"')),
        ("quote escape", line.replace(b'"/app"', b'"/a\\"pp"')),
        ("email in free text", with_props(page_path="/a@b.co")),
        ("phone in free text", with_props(device_network_type="(555) 123-4567")),
        ("undocumented key", with_props(made_up="x")),
        ("sdk key", with_props(token="phc_x")),
        ("sdk key array", with_props(token=["a", 1])),
        ("sdk key object", with_props(token={"a": 1})),
        ("system key", with_props(**{"$browser": "Chrome"})),
        ("system key nested", with_props(**{"$set": {"a": 1}})),
        (
            "system key deeply nested",
            with_props(**{"$set_once": {"a": {"b": [1, {"c": "x@y.co"}, None]}, "d": []}}),
        ),
        ("system key nested too deep", with_props(**{"$set": json.loads("[" * 40 + "]" * 40)})),
        (
            "system key nested, malformed",
            with_props(**{"$set": {"a": 1}}).replace(b'{"a":1}', b'{"a":}'),
        ),
        (
            "system key nested, trailing comma",
            with_props(**{"$set": {"a": 1}}).replace(b'{"a":1}', b'{"a":1,}'),
        ),
        ("plan key of another event", with_props(job_id="job_abc123")),
        ("null value", with_props(page_path=None)),
        ("number as string", with_props(page_path=5)),
        ("big integer", with_top(properties={**base["properties"], "page_path": 10**20})),
        ("exponent", line.replace(b'"/app"', b"1e3")),
        ("missing properties", without("properties")),
        ("null properties", with_top(properties=None)),
        ("array properties", with_top(properties=[1])),
        ("missing uuid", without("uuid")),
        ("null uuid", with_top(uuid=None)),
        ("number uuid", with_top(uuid=5)),
        ("bad uuid", with_top(uuid="not-a-uuid")),
        (
            "id instead of uuid",
            _compact({**{k: v for k, v in base.items() if k != "uuid"}, "id": base["uuid"]}),
        ),
        ("missing distinct_id", without("distinct_id")),
        ("empty distinct_id", with_top(distinct_id="")),
        ("null distinct_id", with_top(distinct_id=None)),
        ("null person_id", with_top(person_id=None)),
        ("number person_id", with_top(person_id=7)),
        ("missing event", without("event")),
        ("empty event", with_top(event="")),
        ("number event", with_top(event=5)),
        ("unknown event", with_top(event="made_up_event")),
        (
            "system event",
            with_top(event="$pageview", properties={"$current_url": "/", "user_id": "u"}),
        ),
        ("unnamed system event", with_top(event="$made_up", properties={"user_id": "u"})),
        ("canonical top field", with_top(source="web")),
        ("missing timestamp", without("timestamp")),
        ("timestamp Z", with_top(timestamp="2026-01-12T10:00:00Z")),
        ("timestamp naive", with_top(timestamp="2026-01-12T10:00:00")),
        ("timestamp offset", with_top(timestamp="2026-01-12T10:00:00.5+05:30")),
        ("timestamp negative offset", with_top(timestamp="2026-01-12T23:59:59.999999-08:00")),
        ("timestamp 7 digits", with_top(timestamp="2026-01-12T10:00:00.1234567+00:00")),
        ("timestamp space", with_top(timestamp="2026-01-12 10:00:00+00:00")),
        ("timestamp leap day", with_top(timestamp="2024-02-29T10:00:00+00:00")),
        ("timestamp not leap", with_top(timestamp="2025-02-29T10:00:00+00:00")),
        ("timestamp hour 24", with_top(timestamp="2026-01-12T24:00:00+00:00")),
        ("timestamp date only", with_top(timestamp="2026-01-12")),
        ("timestamp number", with_top(timestamp=1768212000)),
        ("timestamp garbage", with_top(timestamp="yesterday")),
        ("nested top field", with_top(person_properties={"a": {"b": [1, {"c": None}]}})),
        ("deep nesting", with_top(elements=json.loads("[" * 40 + "]" * 40))),
    ]


@pytest.mark.parametrize("strict", [False, True])
def test_lines_changed_one_way_each(plan, tmp_path: Path, strict: bool) -> None:
    variants = _variants(plan)
    statuses = _check(plan, tmp_path, [line for _, line in variants], strict)
    verdict = {what: s for (what, _), s in zip(variants, statuses, strict=True)}
    if strict:  # PostHog's own $-keys on every row are findings now: DuckDB names them
        assert set(verdict.values()) == {scan.TO_DUCKDB}
        return
    # What the scanner proves itself (not just what it leaves to DuckDB):
    for what in [
        "untouched",
        "python spacing",
        "crlf",
        "leading space",
        "raw utf-8 in value",
        "sdk key",
        "timestamp Z",
        "timestamp naive",
        "timestamp offset",
        "timestamp negative offset",
        "timestamp leap day",
        "id instead of uuid",
        "null person_id",
        "nested top field",
        # PostHog's $set / $set_once objects: no rule reads inside them (most posthog-js rows)
        "system key nested",
        "system key deeply nested",
    ]:
        assert verdict[what] in CLEAN, what
    for what in [
        "repeated key",
        "escaped key",
        "invalid utf-8",
        "timestamp not leap",
        "exponent",
        "system key nested too deep",
        "system key nested, malformed",
        "system key nested, trailing comma",
    ]:
        assert verdict[what] == scan.TO_DUCKDB, what
    assert verdict["system event"] == scan.CLEAN
    assert verdict["unnamed system event"] == scan.TO_DUCKDB  # DuckDB reads its name


def test_timestamps_come_out_as_duckdb_reads_them(plan) -> None:
    rng = random.Random(2)
    base = _user_row(plan, "ad_click", rng, 0)
    stamps = [
        "2026-01-12T10:00:00+00:00",
        "2026-01-12T10:00:00.123456Z",
        "2026-01-12T10:00:00.5+05:30",
        "1999-12-31T23:59:59.999999-08:00",
        "2024-02-29T00:00:00",
        "2000-03-01T00:00:00.01+00:00",
    ]
    data = b"".join(_compact({**base, "timestamp": t}) + b"\n" for t in stamps)
    status, _, ts, _ = scan.scan_bytes(data, screen_for(plan).lines)
    assert list(status) == [scan.CLEAN] * len(stamps)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for stamp, micros in zip(stamps, ts.tolist(), strict=True):
        (expected,) = con.execute("SELECT epoch_us(?::TIMESTAMPTZ)", [stamp]).fetchone()
        assert micros == expected, stamp


@st.composite
def _mutated_lines(draw: st.DrawFn, plan) -> list[bytes]:
    names = sorted(plan.events)
    lines = []
    for n in range(draw(st.integers(1, 5))):
        rng = random.Random(draw(st.integers(0, 10_000)))
        row = _user_row(plan, draw(st.sampled_from(names)), rng, n)
        props = row["properties"]
        for _ in range(0 if n == 0 else draw(st.integers(1, 3))):
            key = draw(st.sampled_from(sorted(props) + EDGE_KEYS))
            props[key] = draw(st.sampled_from(EDGE_VALUES))
        spacing = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
        text = json.dumps(row, separators=spacing, ensure_ascii=draw(st.booleans())).encode()
        if n and draw(st.booleans()):  # a byte-level change: the scanner reads bytes
            at = draw(st.integers(0, len(text) - 1))
            byte = draw(st.sampled_from([b" ", b'"', b"\\", b"\x00", b"\xff", b"}", b",", b"0"]))
            text = text[:at] + byte + text[at + 1 :]
        lines.append(text)
    return lines


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_line_the_scanner_calls_clean_has_no_finding(
    plan, tmp_path: Path, data: st.DataObject
) -> None:
    lines = data.draw(_mutated_lines(plan))
    statuses = _check(plan, tmp_path, lines)
    assert statuses[0] in CLEAN  # the untouched first line: the check is not vacuous


@pytest.mark.parametrize("chunk", [100, 700, 1 << 20])  # lines are about 450 bytes
@pytest.mark.parametrize("packed", [False, True])  # mapped windows; gzip read into buffers
def test_chunks_cut_at_line_ends_and_line_numbers_survive(
    plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, packed: bool
) -> None:
    rng = random.Random(9)
    # job_created: clean, but a cross-row check reads it (its line number comes back another way)
    names = ["ad_click", "ad_click", "job_created"]
    good = [_compact(_user_row(plan, names[n % 3], rng, n)) for n in range(40)]
    lines = good[:10] + [b"{not json"] + good[10:20] + [b"", b"   "] + good[20:]
    text = b"\n".join(lines)  # no newline after the last line
    path = tmp_path / ("chunked.jsonl.gz" if packed else "chunked.jsonl")
    path.write_bytes(gzip.compress(text) if packed else text)
    monkeypatch.setattr(scan, "CHUNK", chunk)  # 100: every line outgrows its window/buffer
    document = _audits_agree(plan, path)
    con = duckdb.connect()
    report = open_screened(con, [str(path)], screen_for(plan))
    assert [e.line for e in report.examples] == [11]
    assert report.rows_total == 41 and report.rows_unparseable == 1
    rows = [r for (r,) in con.execute("SELECT _row FROM audit_events ORDER BY _row").fetchall()]
    assert rows == [n for n in range(1, len(lines) + 1) if n not in (11, 22, 23)]
    assert document["rows_total"] == 41


def test_empty_and_blank_files(plan, tmp_path: Path) -> None:
    for name, text in [("empty.jsonl", b""), ("blank.jsonl", b"\n \n\t\n")]:
        path = tmp_path / name
        path.write_bytes(text)
        assert _audits_agree(plan, path)["rows_total"] == 0


def test_bad_tables_are_refused(plan) -> None:
    tables = screen_for(plan).lines
    out = tuple(np.empty(1, dtype=t) for t in (np.uint8, np.int16, np.int64, np.int64))
    with pytest.raises(ValueError, match="tables"):
        scan._linescan.scan(b"{}", tables.tables[:-1], tables.params, out)
    with pytest.raises(ValueError, match="outputs"):
        uneven = (np.empty(2, dtype=np.uint8), *out[1:])
        scan._linescan.scan(b"{}\n{}\n", tables.tables, tables.params, uneven)
    with pytest.raises(ValueError, match="offset"):
        scan._linescan.scan(b"{}\n", tables.tables, tables.params, out, 4)


def test_the_scanner_stops_when_its_outputs_are_full_and_goes_on_from_there(plan) -> None:
    tables = screen_for(plan).lines
    data = b'{}\n\n{"a":1}'
    one = tuple(np.empty(1, dtype=t) for t in (np.uint8, np.int16, np.int64, np.int64))
    ends, starts = [], []
    at = 0
    while at < len(data):
        lines, at = scan._linescan.scan(data, tables.tables, tables.params, one, at)
        assert lines == 1
        ends.append(at)
        starts.append(int(one[3][0]))
    assert (starts, ends) == ([0, 3, 4], [3, 4, len(data)])
    none = tuple(np.empty(0, dtype=a.dtype) for a in one)
    assert scan._linescan.scan(data, tables.tables, tables.params, none) == (0, 0)
    # scan_bytes sizes its outputs for long lines; a buffer of short ones takes several calls.
    short = b"\n".join(b"{}" for _ in range(5000))
    status, _, _, offsets = scan.scan_bytes(short, tables)
    assert len(status) == 5000 and offsets.tolist() == list(range(0, 15000, 3))


def test_value_dfas_accept_exactly_what_their_regexes_match(plan) -> None:
    rules = AuditRules(plan)
    regexes = sorted(
        {
            v
            for e in plan.events
            for r in rules.keys
            if e in r.allowed
            and (
                v := screen.value_regex(
                    r, e, rules.source_layers(e) if r.name == "source" else None
                )
            )
        }
    )
    table = dfa.compile_all([(r, False) for r in regexes])
    rng = random.Random(4)
    alphabet = [
        '"',
        "\\",
        "a",
        "Z",
        "0",
        "9",
        "5",
        "-",
        ".",
        "@",
        "+",
        " ",
        "(",
        ")",
        "_",
        "/",
        "e",
        "u",
        "n",
        "l",
        "t",
        "r",
    ]
    samples = [
        '"web"',
        '"server"',
        "null",
        "true",
        "false",
        "0",
        "100",
        "599",
        "600",
        "1.5",
        '"/app"',
        '"USD"',
        '"job_abc"',
        '"a@b.co"',
        '"usr_1"',
    ]
    for k, regex in enumerate(regexes):
        pattern = re.compile(regex)
        texts = samples + [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(300)
        ]
        texts += [
            '"' + "".join(rng.choice(alphabet[2:]) for _ in range(rng.randint(0, 8))) + '"'
            for _ in range(300)
        ]
        for text in texts:
            assert table.fullmatch(k, text.encode()) == bool(pattern.fullmatch(text)), (regex, text)


def test_column_patterns_search_as_re2_does() -> None:
    table = dfa.compile_all(
        [(FORMAT_PATTERNS["uuid"], True), ("job_", True), ("^job_[0-9]+", True), ("^a|b$", True)]
    )
    cases = {
        0: {
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b": True,
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5bx": False,
            "": False,
        },
        1: {"job_1": True, "my job_": True, "jo b": False},
        2: {"job_1": True, "job_12x": True, "xjob_1": False, "job_": False},
        3: {"ax": False, "xb": False},  # anchors inside a branch: not compiled, matches nothing
    }
    for k, texts in cases.items():
        for text, expected in texts.items():
            assert table.fullmatch(k, text.encode()) == expected, (k, text)


def test_regexes_the_dfa_compiler_cannot_take_match_nothing() -> None:
    # Each is a construct RE2 reads differently from Python's parser, or one with no DFA here.
    refused = [r"(a)\1", r"(?=a)a", r"a{,2}", r"[[:alpha:]]", r"\bx", r"(?i)a", r"a$b", r"\Ax"]
    table = dfa.compile_all([(r, True) for r in refused] + [("a", False)])
    assert table.starts[: len(refused)] == (0,) * len(refused)
    assert table.fullmatch(len(refused), b"a") and not table.fullmatch(0, b"aa")


def test_gzip_goes_through_the_scanner(plan, tmp_path: Path) -> None:
    rng = random.Random(12)
    lines = [_compact(_user_row(plan, "ad_click", rng, n)) for n in range(30)]
    lines[7] = b"{not json"
    path = tmp_path / "export.jsonl.gz"
    # PostHog writes one gzip member per line
    path.write_bytes(b"".join(gzip.compress(line + b"\n") for line in lines))
    document = _audits_agree(plan, path)
    assert document["rows_total"] == 30 and document["rows_unparseable"] == 1
    con = duckdb.connect()
    report = open_screened(con, [str(path)], screen_for(plan))
    assert [e.line for e in report.examples] == [8]
    (scanned,) = con.execute(
        "SELECT count(*) FROM audit_events WHERE _clean AND uuid IS NULL"
    ).fetchone()
    assert scanned == 29  # proved clean by the scanner, not read by DuckDB's JSON reader


def _records(data: bytes) -> list[list[str | None]]:
    return [
        [None if f == "\x02" else f for f in line.split("\x01")]
        for line in data.decode().splitlines()
    ]


def test_kept_lines_become_records_of_their_columns_and_properties(plan) -> None:
    """A clean line a cross-row check reads (job_created) reaches DuckDB as a record; each field
    must be what the JSON holds: `id` standing in for a missing or null `uuid`, a null
    person_id, the last line without its newline, spaces between tokens."""
    rng = random.Random(11)
    rows = []
    for n in range(5):
        row = _user_row(plan, "job_created", rng, n)
        if n == 1:
            row["id"] = row.pop("uuid")
        if n == 2:
            row["person_id"] = None
        if n == 3:
            row["id"], row["uuid"] = row["uuid"], None
        rows.append(row)
    lines = [_compact(r) for r in rows[:-1]] + [json.dumps(rows[-1]).encode()]
    data = b"\n".join(lines)  # no newline after the last line
    tables = screen_for(plan).lines
    status, _, ts, offsets = scan.scan_bytes(data, tables)
    assert status.tolist() == [scan.KEPT] * len(rows)
    records = _records(
        scan._linescan.kept(data, offsets, np.arange(len(rows)), ts, 7, tables.kept_keys)
    )
    keys = AuditRules(plan).cross_row_keys
    assert {"user_id", "job_id"} <= keys
    for n, (record, row) in enumerate(zip(records, rows, strict=True)):
        chunk, line, uuid, event, distinct_id, micros, person_id, properties = record
        assert (chunk, line) == ("7", str(n + 1))
        assert uuid == (row.get("uuid") or row.get("id"))
        assert (event, distinct_id, person_id) == (
            row["event"],
            row["distinct_id"],
            row["person_id"],
        )
        assert int(micros) == int(ts[n]) > 0
        # only what a cross-row check reads (job_created rows hold more)
        assert json.loads(properties) == {k: v for k, v in row["properties"].items() if k in keys}
        assert len(row["properties"]) > len(json.loads(properties)) >= 2


def test_only_recordable_lines_are_kept(plan) -> None:
    """Records have no quoting, so only lines with no control byte and no backslash may become
    one (UTF-8 text may: the walk has validated it, and no escape can hide a quote); another
    clean line a check reads goes to DuckDB as JSON. The same changes to a row no check reads
    leave it clean, so each variant is a clean line."""

    def variants(row: dict[str, Any]) -> list[bytes]:
        plain = _compact(row)
        accented = dict(row, properties={**row["properties"], "$lib": "p\u00f6sthog \u2713"})
        escaped = json.dumps(accented, separators=(",", ":")).encode()  # \u00f6: a backslash
        text = json.dumps(accented, separators=(",", ":"), ensure_ascii=False).encode()
        return [plain.replace(b"{", b"{\t", 1), plain + b"\r", escaped, text]

    rng = random.Random(12)
    tables = screen_for(plan).lines
    for name, kept in (("job_created", True), ("ad_click", False)):
        row = _user_row(plan, name, rng, 0)
        lines = variants(row)
        data = b"".join(line + b"\n" for line in [_compact(row), *lines])
        status, _, ts, offsets = scan.scan_bytes(data, tables)
        if not kept:
            assert status.tolist() == [scan.CLEAN] * 5
            continue
        assert status.tolist() == [scan.KEPT, *[scan.TO_DUCKDB] * 3, scan.KEPT]
        for refused in (1, 2, 3):
            with pytest.raises(ValueError, match="KEPT"):
                scan._linescan.kept(data, offsets, np.array([refused]), ts, 0, ())
        record = scan._linescan.kept(data, offsets, np.array([4]), ts, 0, ()).decode("utf-8")
        fields = record.rstrip("\n").split("\x01")
        assert fields[1] == "5" and fields[2] == row["uuid"] and fields[3] == name


def test_records_keep_every_property_the_cross_row_checks_read(plan) -> None:
    """A KEPT line's record holds only `AuditRules.cross_row_keys` of its properties, so every
    JSON path the cross-row SQL reads must be one of them."""
    from compiler.audit import sequence

    rules = AuditRules(plan)
    con = duckdb.connect()
    open_events(con, [])
    statements: list[str] = []

    class Recorder:
        def execute(self, sql: str, *args: Any) -> Any:
            statements.append(sql)
            return con.execute(sql, *args)

    sequence.duck_violations(Recorder(), rules)  # type: ignore[arg-type]
    text = "\n".join(statements)
    paths = {m.strip('"') for m in re.findall(r"'\$\.(\"[^\"]+\"|[A-Za-z0-9_$]+)'", text)}
    assert {"user_id", "$anon_distinct_id", "alias"} <= paths  # the pattern finds them
    assert paths <= rules.cross_row_keys


def test_a_pipe_is_read_not_mapped(plan) -> None:
    """A plain file is mapped window by window; a pipe has no size to map, so it is read."""
    import threading

    rng = random.Random(13)
    lines = [_compact(_user_row(plan, "ad_click", rng, n)) for n in range(30)]
    read, write = os.pipe()

    def feed() -> None:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(b"\n".join(lines) + b"\n")

    threading.Thread(target=feed).start()
    clean: list[int] = []
    with open(os.devnull, "wb") as kept, open(os.devnull, "wb") as unclear:
        scanned = scan.scan_file(
            f"/dev/fd/{read}",
            screen_for(plan).lines,
            kept,
            unclear,
            lambda event, ts, rows: clean.extend(rows.tolist()),
        )
    os.close(read)
    assert clean == list(range(1, 31)) and scanned.kept == 0 and len(scanned.unclear_rows) == 0


def test_a_second_read_on_one_connection_starts_afresh(plan, tmp_path: Path) -> None:
    """Clean rows live in numpy batches the connection reads in place; reading again on the
    same connection starts from empty tables and views: no row of the first read remains."""
    rng = random.Random(14)
    screen = screen_for(plan)
    con = duckdb.connect()
    for count in (30, 7):
        path = tmp_path / f"{count}.jsonl"
        rows = [_compact(_user_row(plan, "ad_click", rng, n)) for n in range(count)]
        path.write_bytes(b"\n".join(rows) + b"\n")
        report = open_screened(con, [str(path)], screen)
        assert report.rows_total == count
        seen = con.execute("SELECT count(*), count(*) FILTER (WHERE _clean) FROM audit_events")
        assert seen.fetchall() == [(count, count)]
        stats = con.execute("SELECT sum(n) FROM audit_event_stats").fetchall()
        assert stats == [(count,)]


def test_lines_out_of_range_are_refused(plan) -> None:
    tables = screen_for(plan).lines
    data = b"{}\n{}\n"
    starts, ts = np.array([0, 3], dtype=np.int64), np.zeros(2, dtype=np.int64)
    assert scan._linescan.gather(data, starts, np.array([1, 0])) == b"{}\n{}\n"
    for call in (
        lambda which, at: scan._linescan.gather(data, at, which),
        lambda which, at: scan._linescan.kept(data, at, which, ts, 0, tables.kept_keys),
    ):
        with pytest.raises(IndexError, match="out of range"):
            call(np.array([2]), starts)
        with pytest.raises(ValueError, match="bad line starts"):
            call(np.array([0]), np.array([4, 3], dtype=np.int64))


def _malformed(tables: Any) -> list[tuple[str, tuple[Any, ...], tuple[int, ...]]]:
    """(what, tables, params): each one table or parameter out of shape."""
    t, p = list(tables.tables), list(tables.params)
    classes, trans, checks, slots, keybytes, events, columns = t[:7]
    width = p[0]

    def with_table(k: int, value: Any) -> tuple[Any, ...]:
        return tuple(value if j == k else x for j, x in enumerate(t))

    def with_param(k: int, value: int) -> tuple[int, ...]:
        return tuple(value if j == k else x for j, x in enumerate(p))

    bad_class = classes.copy()
    bad_class[65] = width
    far = trans.copy()
    far[3] = len(trans)
    odd = trans.copy()
    odd[3] = 1 if width > 1 else -1
    bad_check = checks.copy()
    bad_check[0] = len(trans) + width
    bad_column = columns.copy()
    bad_column[4] = len(trans)
    full = slots.copy().reshape(-1, 8)
    full[:, 0] = 0
    event_slot = slots.copy().reshape(-1, 8)
    used = np.flatnonzero(event_slot[:, 0] == -1)[0]
    event_slot[used, 2] = len(events) // 3
    long_key = slots.copy().reshape(-1, 8)
    long_key[used, 1] = len(keybytes) + 1
    key_slot = slots.copy().reshape(-1, 8)
    own = np.flatnonzero(key_slot[:, 0] >= 0)[0]
    key_slot[own, 2] = (key_slot[own, 2] & ~0xFF0000) | (64 << 16)
    return [
        ("classes", with_table(0, bad_class), tuple(p)),
        ("short classes", with_table(0, classes[:255]), tuple(p)),
        ("trans length", with_table(1, trans[:-1]), tuple(p)),
        ("trans out of range", with_table(1, far), tuple(p)),
        ("trans not a row", with_table(1, odd), tuple(p)),
        ("checks length", with_table(2, checks[:-1]), tuple(p)),
        ("check start", with_table(2, bad_check), tuple(p)),
        ("events length", with_table(5, events[:-1]), tuple(p)),
        ("columns dfa", with_table(6, bad_column), tuple(p)),
        ("columns length", with_table(6, columns[:-1]), tuple(p)),
        ("no empty slot", with_table(3, full.reshape(-1)), tuple(p)),
        ("event index", with_table(3, event_slot.reshape(-1)), tuple(p)),
        ("key past keybytes", with_table(3, long_key.reshape(-1)), tuple(p)),
        ("key bit", with_table(3, key_slot.reshape(-1)), tuple(p)),
        ("keybytes", with_table(4, b""), tuple(p)),
        ("classes count", tuple(t), with_param(0, 0)),
        ("classes count high", tuple(t), with_param(0, 300)),
        ("slot count", tuple(t), with_param(1, len(slots) // 8 * 2)),
        ("safe_any", tuple(t), with_param(2, len(checks) // 2)),
        ("accept_from", tuple(t), with_param(5, len(trans) + 1)),
        ("parameter overflow", tuple(t), with_param(5, 1 << 40)),
    ]


def test_every_table_length_and_index_is_checked_on_entry(plan) -> None:
    """A malformed table raises ValueError before the walk: never a crash or a wild read (the
    sanitizer run, tests/test_audit_sanitizers.py, runs this test too)."""
    tables = screen_for(plan).lines
    out = tuple(np.empty(4, dtype=t) for t in (np.uint8, np.int16, np.int64, np.int64))
    line = _compact(_user_row(plan, "ad_click", random.Random(3), 0)) + b"\n"
    assert scan._linescan.scan(line, tables.tables, tables.params, out) == (1, len(line))
    for what, bad_tables, params in _malformed(tables):
        with pytest.raises(ValueError, match="malformed tables"):
            scan._linescan.scan(line, bad_tables, params, out)
            pytest.fail(what)


def test_kept_and_gather_check_their_arrays(plan) -> None:
    tables = screen_for(plan).lines
    data = b"{}\n{}\n"
    with pytest.raises(ValueError, match="int64"):
        scan._linescan.gather(data, np.array([0, 3, 6], dtype=np.int32), np.array([0]))
    with pytest.raises(ValueError, match="timestamp"):
        scan._linescan.kept(
            data, np.array([0, 3]), np.array([0]), np.zeros(1, np.int64), 0, tables.kept_keys
        )
    # the biggest numbers a record holds still fit its buffer
    rng = random.Random(15)
    row = _user_row(plan, "job_created", rng, 0)
    line = _compact(row)
    status, _, ts, offsets = scan.scan_bytes(line, tables)
    assert status.tolist() == [scan.KEPT]
    ts[:] = -(2**63)
    record = scan._linescan.kept(line, offsets, np.array([0]), ts, -(2**63), tables.kept_keys)
    assert record.startswith(b"-9223372036854775808\x011\x01") and record.endswith(b"\n")
    assert b"\x01-9223372036854775808\x01" in record
