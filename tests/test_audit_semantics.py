"""The audit's documented semantics (README "Audit" > "Semantics"), one test per rule.

Every test runs every engine: the DuckDB audit read through the screen with the C line scanner,
through the SQL screen alone, unscreened, and the jsonschema reference engine; and, where the
input can be written in it, every format: JSON Lines plain and gzip, Parquet, CSV. All must
give the same document, and the expected findings are written out by hand.
"""

from __future__ import annotations

import csv
import gzip
import json
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from compiler.audit import open_screened, run_audit, screen_for
from compiler.audit.rules import FORMAT_PATTERNS, search
from compiler.exports import open_events
from compiler.plan import load_plan
from compiler.plan.model import Plan

TS = "2026-01-12T10:00:00Z"


def write_plan(
    root: Path,
    properties: dict[str, dict[str, Any]],
    required: list[str] = (),  # type: ignore[assignment]
    optional: list[str] = (),  # type: ignore[assignment]
) -> Plan:
    """A one-event plan (`thing_done`, layer server) with an envelope of event, timestamp,
    source (role source, enum web/server), distinct_id and uuid."""
    root.mkdir(parents=True, exist_ok=True)
    props = {
        "event": {"type": "string", "description": "Event name."},
        "timestamp": {"type": "string", "format": "date-time", "description": "When."},
        "source": {"type": "string", "enum": ["web", "server"], "description": "Layer."},
        "distinct_id": {"type": "string", "description": "PostHog id."},
        "uuid": {"type": "string", "description": "Event id."},
    }
    for name, body in properties.items():
        props[name] = {"description": f"Property {name}.", **body}
    document = {
        "plan": {
            "name": "Sem",
            "version": "0.1.0",
            "description": "Semantics.",
            "schema_base_uri": "https://example.test/schemas/",
        },
        "layers": {
            "web": {"runtime": "browser", "description": "Browser."},
            "server": {"runtime": "server", "description": "Backend."},
        },
        "categories": {"product": {"title": "Product", "description": "Product events."}},
        "properties": props,
        "envelope": {
            "uuid": {"role": "event_id", "placement": "top", "required": False},
            "event": {"role": "event_name", "placement": "top", "required": True},
            "timestamp": {"role": "timestamp", "placement": "top", "required": True},
            "source": {"role": "source", "placement": "top", "required": False},
            "distinct_id": {"role": "distinct_id", "placement": "top", "required": True},
        },
        "events": {
            "thing_done": {
                "category": "product",
                "description": "A thing was done.",
                "layers": ["server"],
                "required": list(required),
                "optional": list(optional),
            }
        },
    }
    (root / "plan.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = load_plan(root)
    assert not result.errors, [d.format() for d in result.errors]
    return result.plan


ENGINES = ("scanner", "sql-screen", "unscreened", "jsonschema")


def audit(plan: Plan, inputs: list[str], engine: str) -> dict[str, Any]:
    con = duckdb.connect()
    screen = None
    if engine == "scanner":
        screen = screen_for(plan)
    elif engine == "sql-screen":
        screen = screen_for(plan)._replace(lines=None)
    report = open_screened(con, inputs, screen)
    kind = "jsonschema" if engine == "jsonschema" else "duckdb"
    document = run_audit(con, report, plan, engine=kind).to_json()
    document.pop("engine")
    return document


def every_engine(plan: Plan, inputs: list[str]) -> dict[str, Any]:
    documents = {engine: audit(plan, inputs, engine) for engine in ENGINES}
    first = documents["scanner"]
    for engine, document in documents.items():
        assert document == first, (engine, document, first)
    return first


def found(document: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(f["kind"], f["property"]) for f in document["findings"] if f["kind"] != "never_seen"}


def line(props: Any, event: str = "thing_done", **top: Any) -> str:
    """A PostHog batch-export line (`props` a dict, or raw JSON text)."""
    text = props if isinstance(props, str) else json.dumps(props)
    head = {"uuid": top.pop("uuid", None), "event": event, "distinct_id": "d1", "timestamp": TS}
    head = {k: v for k, v in head.items() if v is not None}
    head.update(top)
    return json.dumps(head)[:-1] + ', "properties": ' + text + "}"


def jsonl_files(tmp: Path, lines: list[str], newline: str = "\n") -> list[Path]:
    data = newline.join(lines).encode() + newline.encode()
    plain, packed = tmp / "rows.jsonl", tmp / "rows.jsonl.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    return [plain, packed]


def parquet_file(tmp: Path, rows: list[tuple[str, str | None]], **columns: list[Any]) -> Path:
    """Rows of (event, raw properties text)."""
    path = tmp / "rows.parquet"
    table = {
        "uuid": [f"u{i}" for i in range(len(rows))],
        "event": [e for e, _ in rows],
        "distinct_id": columns.pop("distinct_id", ["d1"] * len(rows)),
        "timestamp": [TS] * len(rows),
        "properties": [p for _, p in rows],
    }
    pq.write_table(pa.table(table), path)
    return path


def csv_file(tmp: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp / "rows.csv"
    keys = sorted({k for r in rows for k in r})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["*.uuid", "*.event", "*.distinct_id", "*.timestamp"]
            + [f"*.properties.{k}" for k in keys]
        )
        for i, r in enumerate(rows):
            writer.writerow([f"u{i}", "thing_done", "d1", TS] + [r.get(k, "") for k in keys])
    return path


@pytest.fixture
def mode_plan(tmp_path: Path) -> Plan:
    return write_plan(
        tmp_path / "plan",
        {
            "mode": {"type": "string", "enum": ["crop", "blur"]},
            "credits": {"type": "integer", "minimum": 0},
            "amount": {"type": "number"},
        },
        required=["mode"],
        optional=["credits", "amount"],
    )


# 1. A key with an escaped quote is an ordinary key.
def test_escaped_quote_in_a_key_is_checked_not_a_traceback(tmp_path: Path, mode_plan: Plan) -> None:
    props = {"mode": "crop", 'a"b': "john@example.com"}
    expected = {("undocumented_property", 'a"b'), ("pii_leak", 'a"b')}
    for path in jsonl_files(tmp_path, [line(props)]):
        document = every_engine(mode_plan, [str(path)])
        assert found(document) == expected and document["rows_unparseable"] == 0
    parquet = parquet_file(tmp_path, [("thing_done", json.dumps(props))])
    assert found(every_engine(mode_plan, [str(parquet)])) == expected
    text = csv_file(tmp_path, [{"mode": "crop", 'a"b': "john@example.com"}])
    assert found(every_engine(mode_plan, [str(text)])) == expected


# 2. A bare CR: a control character in a string (unparseable), whitespace elsewhere.
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bare_cr_spoils_one_row_not_the_file(tmp_path: Path, mode_plan: Plan, newline: str) -> None:
    lines = [
        line('{"mode": "cr\rop"}'),  # inside a string: unparseable
        line('{"mode":\r"crop"}'),  # between members: whitespace, clean
        "garbage",
        line({"mode": "zoom"}),  # enum_violation
        line({"mode": "crop"}) + "\r",  # a CR line ending after a garbage line
    ]
    for path in jsonl_files(tmp_path, lines, newline):
        document = every_engine(mode_plan, [str(path)])
        assert document["rows_total"] == 5 and document["rows_unparseable"] == 2, document
        assert found(document) == {("unparseable_row", None), ("enum_violation", "mode")}
        assert document["files"][0]["status"] == "read fully"
        bad = next(f for f in document["findings"] if f["kind"] == "unparseable_row")
        assert [e.rsplit(":", 1)[1] for e in bad["examples"]] == ["1", "3"]


# 3. Duplicate keys: the last wins, counted once.
def test_duplicate_keys_last_wins_counted_once(tmp_path: Path, mode_plan: Plan) -> None:
    cases = {
        '{"mode":"crop","mode":"zoom"}': {("enum_violation", "mode")},
        '{"mode":"zoom","mode":"crop"}': set(),
        '{"mode":"crop","x":1,"x":2}': {("undocumented_property", "x")},
    }
    for raw, expected in cases.items():
        for path in jsonl_files(tmp_path, [line(raw), line(raw)]):
            document = every_engine(mode_plan, [str(path)])
            assert found(document) == expected, raw
            assert all(f["count"] == 2 for f in document["findings"] if f["kind"] != "never_seen")
        parquet = parquet_file(tmp_path, [("thing_done", raw)] * 2)
        document = every_engine(mode_plan, [str(parquet)])
        assert found(document) == expected
        assert all(f["count"] == 2 for f in document["findings"] if f["kind"] != "never_seen")
    # a top-level duplicate too: the last event name is the row's
    top = '{"event":"nope","event":"thing_done","distinct_id":"d1","timestamp":"' + TS
    top += '","properties":{"mode":"crop"}}'
    for path in jsonl_files(tmp_path, [top]):
        assert found(every_engine(mode_plan, [str(path)])) == set()


# 4. Not RFC 8259: unparseable; a number past a double: type_mismatch.
@pytest.mark.parametrize(
    "raw",
    [
        '{"mode":"crop","credits":NaN}',
        '{"mode":"crop","amount":Infinity}',
        '{"mode":"crop","amount":-Infinity}',
        '{"mode":"crop","credits":3,}',
        '{"mode":"crop","credits":[1,]}',
    ],
)
def test_not_json_is_unparseable(tmp_path: Path, mode_plan: Plan, raw: str) -> None:
    for path in jsonl_files(tmp_path, [line(raw), line({"mode": "crop"})]):
        document = every_engine(mode_plan, [str(path)])
        assert found(document) == {("unparseable_row", None)}
        assert document["rows_unparseable"] == 1 and document["rows_total"] == 2
    parquet = parquet_file(tmp_path, [("thing_done", raw), ("thing_done", '{"mode":"crop"}')])
    document = every_engine(mode_plan, [str(parquet)])
    assert found(document) == {("unparseable_row", None)}


@pytest.mark.parametrize("key", ["credits", "amount"])
@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" * 400])
def test_number_past_a_double_is_a_type_mismatch(
    tmp_path: Path, mode_plan: Plan, key: str, number: str
) -> None:
    raw = '{"mode":"crop","' + key + '":' + number + "}"
    for path in jsonl_files(tmp_path, [line(raw)]):
        assert found(every_engine(mode_plan, [str(path)])) == {("type_mismatch", key)}
    parquet = parquet_file(tmp_path, [("thing_done", raw)])
    assert found(every_engine(mode_plan, [str(parquet)])) == {("type_mismatch", key)}
    text = csv_file(tmp_path, [{"mode": "crop", key: number}])
    assert found(every_engine(mode_plan, [str(text)])) == {("type_mismatch", key)}


def test_json_number_forms_agree(tmp_path: Path, mode_plan: Plan) -> None:
    numbers = [
        "0",
        "-0",
        "1.0",
        "1.5",
        "-1",
        "1e2",
        "1E+2",
        "2.5e-3",
        "12345678901234567890",
        "1e308",
    ]
    lines = [line('{"mode":"crop","credits":' + n + ',"amount":' + n + "}") for n in numbers]
    for path in jsonl_files(tmp_path, lines):
        document = every_engine(mode_plan, [str(path)])
        mismatched = {
            f["property"]: f["count"] for f in document["findings"] if f["kind"] == "type_mismatch"
        }
        assert mismatched == {"credits": 2}  # 1.5 and 2.5e-3 are no integers
        assert {
            f["property"]: f["count"]
            for f in document["findings"]
            if f["kind"] == "constraint_violation"
        } == {
            "credits": 1
        }  # -1 < 0


# 5. "properties": null is {} wherever it appears.
def test_null_properties_read_the_same_anywhere(tmp_path: Path, mode_plan: Plan) -> None:
    expected = {("missing_required_property", "mode")}
    for lines in ([line("null")], ["garbage", line("null")], [line("null"), "[1]", line("null")]):
        for path in jsonl_files(tmp_path, lines):
            document = every_engine(mode_plan, [str(path)])
            bad = len(lines) - lines.count(line("null"))
            assert document["rows_unparseable"] == bad
            assert found(document) - {("unparseable_row", None)} == expected
    parquet = parquet_file(tmp_path, [("thing_done", "null"), ("thing_done", None)])
    assert found(every_engine(mode_plan, [str(parquet)])) == expected


# 6. Parquet reads as JSON Lines does: escapes decoded, distinct_id from properties.
def test_parquet_finds_escaped_pii_and_falls_back_to_properties_distinct_id(
    tmp_path: Path, mode_plan: Plan
) -> None:
    raw = '{"mode":"crop","note":"john\\u0040example.com"}'
    expected = {("undocumented_property", "note"), ("pii_leak", "note")}
    for path in jsonl_files(tmp_path, [line(raw)]):
        assert found(every_engine(mode_plan, [str(path)])) == expected
    parquet = parquet_file(tmp_path, [("thing_done", raw)])
    assert found(every_engine(mode_plan, [str(parquet)])) == expected
    raw = '{"mode":"crop","distinct_id":"from_props"}'
    jsonl = tmp_path / "noid.jsonl"
    jsonl.write_text(
        json.dumps({"event": "thing_done", "timestamp": TS, "properties": json.loads(raw)}) + "\n"
    )
    parquet = parquet_file(tmp_path, [("thing_done", raw)], distinct_id=[None])
    for path in (jsonl, parquet):
        con = duckdb.connect()
        open_events(con, [str(path)])
        assert con.execute("SELECT distinct_id FROM events").fetchall() == [("from_props",)]
        # the plan does not tolerate distinct_id inside properties (no sdk_properties)
        assert found(every_engine(mode_plan, [str(path)])) == {
            ("undocumented_property", "distinct_id")
        }


# 7. Patterns are RE2 everywhere.
@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        (r"^\d+$", "\u0663", False),  # Arabic-Indic three: not an RE2 \d
        (r"^\d+$", "123", True),
        (r"^a$", "a\n", False),  # $ is the very end
        (r"^a\sb$", "a\u00a0b", False),  # no-break space: not an RE2 \s
        (r"^a\sb$", "a b", True),
        (r"^.{3}$", "\u00e9a", False),  # two characters, three bytes
        (r"^.{2}$", "\u00e9a", True),
        (r"^[à-ÿ]{2,3}$", "éèê", True),
        (r"^[à-ÿ]{2,3}$", "éèêë", False),
        (r"job_", "my job_1", True),  # unanchored search, as in JSON Schema
        (r"(?i)^abc$", "ABC", True),
    ],
)
def test_patterns_have_re2_semantics_in_every_engine(
    tmp_path: Path, pattern: str, value: str, ok: bool
) -> None:
    plan = write_plan(
        tmp_path / "plan", {"code": {"type": "string", "pattern": pattern}}, required=["code"]
    )
    expected = set() if ok else {("constraint_violation", "code")}
    for path in jsonl_files(tmp_path, [line({"code": value})]):
        assert found(every_engine(plan, [str(path)])) == expected
    parquet = parquet_file(tmp_path, [("thing_done", json.dumps({"code": value}))])
    assert found(every_engine(plan, [str(parquet)])) == expected
    if "\n" not in value:
        text = csv_file(tmp_path, [{"code": value}])
        assert found(every_engine(plan, [str(text)])) == expected


def test_lint_rejects_a_pattern_re2_cannot_compile(tmp_path: Path) -> None:
    root = tmp_path / "plan"
    with pytest.raises(AssertionError):
        write_plan(root, {"code": {"type": "string", "pattern": "^(?=a)a$"}}, required=["code"])
    result = load_plan(root)
    tp020 = [d for d in result.diagnostics if d.code == "TP020"]
    assert len(tp020) == 1 and tp020[0].level.value == "error"
    assert "not RE2" in tp020[0].message
    loc = tp020[0].location
    assert loc is not None and Path(loc.file).name == "plan.yaml" and loc.line > 1 and loc.col > 1
    text = (root / "plan.yaml").read_text().splitlines()[loc.line - 1]
    assert "pattern" in text
    # a pattern RE2 takes and Python does not is no error
    write_plan(tmp_path / "ok", {"code": {"type": "string", "pattern": r"^\p{L}+$"}})


# 8. A top-level envelope field beside the same key in properties: the top-level one wins.
@pytest.mark.parametrize(
    ("top", "inner", "expected"),
    [
        ("server", "web", set()),
        ("web", "server", {("wrong_source", "source")}),
        ("tv", "server", {("enum_violation", "source")}),
        (None, "web", {("wrong_source", "source")}),
    ],
)
def test_top_level_field_wins_over_properties(
    tmp_path: Path, mode_plan: Plan, top: str | None, inner: str, expected: set[Any]
) -> None:
    extra = {} if top is None else {"source": top}
    lines = [line({"mode": "crop", "source": inner}, **extra)]
    for path in jsonl_files(tmp_path, lines):
        assert found(every_engine(mode_plan, [str(path)])) == expected


# 9. format: date-time is RFC 3339; email is linear time.
DATES = {
    "2026-01-23T15:19:53.5+00:00": True,
    "2026-01-23t15:19:53z": True,
    "2024-02-29T00:00:00Z": True,
    "2000-02-29T00:00:00Z": True,
    "2026-12-31T23:59:60Z": True,
    "9999-12-31T23:59:59-23:59": True,
    "206-01-23T15:19:53.5+00:00": False,
    "2026-1-01T00:00:00Z": False,
    "2023-02-29T00:00:00Z": False,
    "1900-02-29T00:00:00Z": False,
    "2026-04-31T00:00:00Z": False,
    "2026-01-01 00:00:00Z": False,
    "2026-01-01T24:00:00Z": False,
    "2026-01-01T00:00:00+24:00": False,
    "2026-01-01T00:00:00": False,
    "2026-01-01T00:00:00Z\n": False,
}


def test_date_time_is_rfc_3339(tmp_path: Path) -> None:
    plan = write_plan(
        tmp_path / "plan", {"at": {"type": "string", "format": "date-time"}}, required=["at"]
    )
    lines = [line({"at": value}, uuid=f"u{i}") for i, value in enumerate(DATES)]
    bad = sorted(f"u{i}" for i, ok in enumerate(DATES.values()) if not ok)
    for path in jsonl_files(tmp_path, lines):
        document = every_engine(plan, [str(path)])
        (finding,) = [f for f in document["findings"] if f["kind"] != "never_seen"]
        assert (finding["kind"], finding["property"], finding["count"]) == (
            "constraint_violation",
            "at",
            len(bad),
        )


def test_far_timestamp_with_offset_does_not_crash(tmp_path: Path, mode_plan: Plan) -> None:
    row = json.loads(line({"mode": "crop"}))
    row["timestamp"] = "9999-12-31T23:59:59-23:59"
    for path in jsonl_files(tmp_path, [json.dumps(row)]):
        assert found(every_engine(mode_plan, [str(path)])) == set()


def test_email_check_is_linear() -> None:
    long = "a" * 1_000_000
    for pattern in (FORMAT_PATTERNS["email"], r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"):
        start = time.perf_counter()
        assert not search(pattern, long)
        assert not search(pattern, long + "@")
        assert time.perf_counter() - start < 0.5


def test_megabyte_value_audits_quickly_in_every_engine(tmp_path: Path, mode_plan: Plan) -> None:
    plan = write_plan(
        tmp_path / "plan", {"mail": {"type": "string", "format": "email"}}, optional=["mail"]
    )
    lines = [line({"mail": "a" * 1_000_000}), line({"note": "b." * 500_000})]
    for path in jsonl_files(tmp_path, lines)[:1]:
        start = time.perf_counter()
        document = every_engine(plan, [str(path)])
        assert time.perf_counter() - start < 20
        assert found(document) == {
            ("constraint_violation", "mail"),
            ("undocumented_property", "note"),
        }


# 10. Bad inputs.
def test_line_longer_than_the_limit_is_one_unparseable_row(tmp_path: Path, mode_plan: Plan) -> None:
    from compiler.exports.load import MAX_LINE

    big = line({"mode": "crop", "blob": "x" * (MAX_LINE + 10)})
    path = tmp_path / "big.jsonl"
    path.write_text(line({"mode": "crop"}) + "\n" + big + "\n" + line({"mode": "zoom"}) + "\n")
    con = duckdb.connect()
    report = open_events(con, [str(path)])
    assert report.rows_total == 3 and report.rows_unparseable == 1
    assert [(e.line, e.reason) for e in report.examples] == [(2, "line longer than 16 MiB")]


def _zstd_file(tmp: Path, rows: int) -> Path:
    path = tmp / "rows.jsonl.zst"
    con = duckdb.connect()
    con.execute(
        f'COPY (SELECT \'{{"event":"thing_done","distinct_id":"d","timestamp":"{TS}",'
        f'"properties":{{"mode":"crop","n":\' || i || \'}}}}\' FROM range({rows}) t(i)) '
        f"TO '{path}' (FORMAT csv, HEADER false, QUOTE '', COMPRESSION zstd)"
    )
    return path


def test_truncated_zstd_is_read_partly(tmp_path: Path) -> None:
    whole = _zstd_file(tmp_path, 100_000)
    cut = tmp_path / "cut.jsonl.zst"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    report = open_events(duckdb.connect(), [str(whole)])
    assert report.files[0].status == "read fully" and report.rows_total == 100_000
    report = open_events(duckdb.connect(), [str(cut)])
    assert report.files[0].status == "read partly"
    assert "zstd stream is truncated" in report.files[0].notes[0]
    assert 0 < report.rows_total < 100_000


def test_fifo_and_dev_null_are_read(tmp_path: Path) -> None:
    import os
    import threading

    report = open_events(duckdb.connect(), ["/dev/null"])
    assert report.files[0].format == "empty" and not report.errors
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    text = line({"mode": "crop"}) + "\n"
    writer = threading.Thread(target=lambda: fifo.write_text(text))
    writer.start()
    report = open_events(duckdb.connect(), [str(fifo)])
    writer.join()
    assert not report.errors and report.rows_total == 1 and report.files[0].path == str(fifo)


def test_one_bad_file_in_a_directory_does_not_fail_it(tmp_path: Path, mode_plan: Plan) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "good.jsonl").write_text(line({"mode": "zoom"}) + "\n")
    (folder / "fake.parquet").write_bytes(b"PAR1 but not really")
    (folder / "notes.txt").write_text("hello\n")
    document = every_engine(mode_plan, [str(folder)])
    files = {Path(f["path"]).name: f for f in document["files"]}
    assert files["fake.parquet"]["status"] == "read partly"
    assert "could not read" in files["fake.parquet"]["notes"][0]
    assert files["notes.txt"]["status"] == "skipped" and "skipped" in files["notes.txt"]["notes"][0]
    assert found(document) == {("enum_violation", "mode")}
    report = open_events(duckdb.connect(), [str(folder)])
    assert report.errors == []
    # named on the command line, the same file is an input error
    assert open_events(duckdb.connect(), [str(folder / "fake.parquet")]).errors


def test_garbage_on_stdin_gives_a_clear_message(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from compiler.cli.main import cli

    root = tmp_path / "plan"
    write_plan(root, {"mode": {"type": "string"}})
    for garbage in (b"\x00\x01garbage\nmore garbage\n", b"a,b\n1,2\n"):
        out = CliRunner().invoke(cli, ["audit", "--plan", str(root), "-"], input=garbage)
        assert "trackplan-export-" not in out.output and "/tmp" not in out.output
        assert "Traceback" not in out.output
        assert "<stdin>" in out.output
        assert "unparseable" in out.output


def test_negative_number_past_a_double_with_only_a_maximum(tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan", {"n": {"type": "integer", "maximum": 10}}, required=["n"])
    for number in ("-" + "1" * 400, "-1e400", "-5"):
        expected = set() if number == "-5" else {("type_mismatch", "n")}
        for path in jsonl_files(tmp_path, [line('{"n":' + number + "}")]):
            assert found(every_engine(plan, [str(path)])) == expected, number
