"""`compiler.exports` is a neutral reader (issue 13 item 5): `events` is every good row with its
properties, whoever asks and whatever was read before on the same connection. The audit's fast
paths (the screen, the C line scanner) live under `compiler/audit/` and read into
`audit_events`, and a screened read leaves no `events` view that another command could mistake
for the export.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compiler.audit import open_screened, run_audit, scan, screen_for
from compiler.exports import open_events
from compiler.plan.model import Plan
from tests.export_rows import posthog_row


@pytest.fixture()
def valid(plan: Plan, tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Valid rows of every plan event, which the scanner proves clean: the rows whose
    properties a screened read drops."""
    rng = random.Random(5)
    rows = [posthog_row(plan, name, rng) for name in sorted(plan.events) for _ in range(4)]
    path = tmp_path / "valid.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows


def _properties(con: duckdb.DuckDBPyConnection, view: str) -> dict[int, Any]:
    return {
        int(row): None if props is None else json.loads(props)
        for row, props in con.execute(f"SELECT _row, properties FROM {view}").fetchall()
    }


def test_events_has_every_row_with_its_properties(valid: tuple[Path, list[Any]]) -> None:
    path, rows = valid
    con = duckdb.connect()
    report = open_events(con, [str(path)])
    assert report.views.rows == "events" and report.rows_total == len(rows)
    read = _properties(con, "events")
    assert read == {n: row["properties"] for n, row in enumerate(rows, 1)}
    (nulls,) = con.execute("SELECT count(*) FROM events WHERE _clean IS NOT NULL").fetchone()
    assert nulls == 0  # nothing here was screened


def test_a_screened_read_is_named_apart_and_leaves_no_events_view(
    plan: Plan, valid: tuple[Path, list[Any]]
) -> None:
    path, rows = valid
    assert scan.available()
    con = duckdb.connect()
    open_events(con, [str(path)])  # a neutral read first, on the same connection
    report = open_screened(con, [str(path)], screen_for(plan))
    assert report.views.rows == "audit_events" and report.rows_total == len(rows)
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT count(*) FROM events")  # not a stale view of the earlier read
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT count(*) FROM event_stats")
    stripped = con.execute("SELECT count(*) FROM audit_events WHERE properties IS NULL").fetchone()
    kept = _kept(con)
    assert kept < len(rows) and stripped == (len(rows) - kept,)
    # ... and a neutral read after it has every properties object again, and no audit view.
    open_events(con, [str(path)])
    assert _properties(con, "events") == {n: row["properties"] for n, row in enumerate(rows, 1)}
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT count(*) FROM audit_events")


def _kept(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of the screened read that kept (some of) their properties: cross-row rows."""
    (n,) = con.execute("SELECT count(*) FROM audit_events WHERE _seq").fetchone() or (0,)
    return int(n)


def test_every_engine_reads_a_neutral_read_and_only_duckdb_a_screened_one(
    plan: Plan, valid: tuple[Path, list[Any]]
) -> None:
    path, _ = valid
    con = duckdb.connect()
    neutral = open_events(con, [str(path)])
    reference = run_audit(con, neutral, plan, engine="jsonschema").to_json()
    duck = run_audit(con, neutral, plan).to_json()
    screened = open_screened(con, [str(path)], screen_for(plan))
    fast = run_audit(con, screened, plan).to_json()
    for document in (reference, duck, fast):
        document.pop("engine")
    assert duck == reference and fast == reference
    with pytest.raises(ValueError, match="reads every row"):
        run_audit(con, screened, plan, engine="jsonschema")


def test_a_user_table_named_events_is_not_dropped(valid: tuple[Path, list[Any]]) -> None:
    """A caller's own table by a view's name survives a read (DuckDB then says why the view
    cannot be made, rather than the read dropping someone's data)."""
    path, _ = valid
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE audit_events AS SELECT 1 AS x")
    open_events(con, [str(path)])
    assert con.execute("SELECT x FROM audit_events").fetchall() == [(1,)]
