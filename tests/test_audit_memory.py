"""Realistic-shaped exports under a small DuckDB memory limit: every line counted, nothing lost.

A 1.9 GB export once ran out of memory inside the line reader (one JSON function per RFC 8259
check, each holding a chunk's parsed documents) and the rows the C scanner had already proved
clean were kept as if they were the whole file: 796,258 of 998,118 rows, no findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from compiler.audit import open_screened, read, run_audit, screen_for
from compiler.audit.rules import csv_nulls
from compiler.cli.main import cli
from compiler.exports import jsonl
from compiler.plan import load_plan
from tests.conftest import PLAN_DIR

ROWS = 3000
LIMIT = "256MB"  # the CLI's default is 768MB; the reader's fixed buffers take about 100 MB


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("orjson")
    from tests.benchmarks import realistic as generator

    cache = tmp_path_factory.mktemp("bench")
    old = os.environ.get("TRACKPLAN_BENCH_CACHE")
    os.environ["TRACKPLAN_BENCH_CACHE"] = str(cache)
    try:
        path = generator.realistic_file(rows=ROWS, seed=13)
    finally:
        if old is None:
            del os.environ["TRACKPLAN_BENCH_CACHE"]
        else:
            os.environ["TRACKPLAN_BENCH_CACHE"] = old
    # Browser rows with the SDK's ~45 $-properties, arrays and nested $set_once.
    first_browser = next(json.loads(line) for line in path.open() if '"$raw_user_agent"' in line)
    props = first_browser["properties"]
    assert sum(k.startswith("$") for k in props) >= 40
    assert isinstance(props["$set_once"], dict) and isinstance(props["$active_feature_flags"], list)
    return path


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()  # as compiler/cli/audit.py builds it, with a small limit
    con.execute(f"SET memory_limit = '{LIMIT}'")
    con.execute("SET preserve_insertion_order = true")
    return con


def test_library_path_counts_every_line_under_a_small_memory_limit(realistic: Path) -> None:
    plan = load_plan(PLAN_DIR).plan
    con = _connection()
    exports = open_screened(con, [str(realistic)], screen_for(plan), csv_nulls(plan))
    assert exports.errors == []
    lines = _lines(realistic)
    assert exports.rows_total == lines
    assert [f.rows for f in exports.files] == [lines]
    audited = run_audit(con, exports, plan)
    assert audited.rows_unparseable == 0
    # A few thousand rows do not reach every event: only never_seen (info) is expected.
    assert [f for f in audited.findings if f.kind != "never_seen"] == []


def test_cli_counts_every_line_under_a_small_memory_limit(realistic: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            str(realistic),
            "--plan",
            str(PLAN_DIR),
            "--format",
            "json",
            "-o",
            str(out),
            "--memory-limit",
            LIMIT,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["rows_total"] == _lines(realistic)
    assert report["rows_unparseable"] == 0
    assert [f for f in report["findings"] if f["kind"] != "never_seen"] == []


def test_a_read_that_fails_part_way_keeps_none_of_the_file(
    realistic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scanner's clean rows are registered before the rest of the file is read: when the
    rest fails, the file is reported unreadable, and none of its rows pass for all of it."""
    plan = load_plan(PLAN_DIR).plan

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise duckdb.OutOfMemoryException("Out of Memory Error: simulated")

    monkeypatch.setattr(read, "_insert_part", out_of_memory)
    monkeypatch.setattr(jsonl, "_insert_jsonl_clean", out_of_memory)
    monkeypatch.setattr(jsonl, "_insert_lines", out_of_memory)
    con = _connection()
    exports = open_screened(con, [str(realistic)], screen_for(plan), csv_nulls(plan))
    assert exports.errors and "Out of Memory" in exports.errors[0]
    assert exports.rows_total == 0
    assert con.execute("SELECT count(*) FROM audit_events").fetchone() == (0,)
