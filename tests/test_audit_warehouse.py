"""The ClickHouse SQL form of the audit, run in chdb against the DuckDB engine; HogQL parsed."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest
import sqlglot

from compiler.audit import run_audit
from compiler.audit.warehouse import OMITTED, emit_sql
from compiler.exports import open_events
from tests.conftest import FIXTURES
from tests.export_rows import posthog_row
from tests.test_warehouse_dialects import clickhouse_sql_counts

chdb = pytest.importorskip("chdb")

SAMPLE = FIXTURES / "exports" / "sample_export.jsonl"


def duckdb_counts(plan, path: Path) -> set[tuple[str, str | None, str | None, int]]:
    con = duckdb.connect()
    result = run_audit(con, open_events(con, [str(path)]), plan)
    return {
        (f.kind, f.event, f.property, f.count) for f in result.findings if f.kind not in OMITTED
    }


def clickhouse_counts(
    plan, path: Path, tmp_path: Path
) -> set[tuple[str, str | None, str | None, int]]:
    """Load the export into a ClickHouse `events` table (properties a JSON string) and audit it."""
    con = duckdb.connect()
    open_events(con, [str(path)])
    parquet = tmp_path / "events.parquet"
    con.execute(
        f"COPY (SELECT uuid, event, distinct_id, timestamp, person_id, properties FROM events) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    return clickhouse_sql_counts(plan, parquet, tmp_path)


def test_clickhouse_sql_agrees_with_duckdb_on_the_sample(plan, tmp_path: Path) -> None:
    expected = duckdb_counts(plan, SAMPLE)
    assert ("wrong_source", "processing_completed", "source", 1) in expected
    assert clickhouse_counts(plan, SAMPLE, tmp_path) == expected


def test_clickhouse_sql_agrees_on_mutated_rows(plan, tmp_path: Path) -> None:
    rng = random.Random(3)
    rows = []
    for n, name in enumerate(sorted(plan.events)):
        row = posthog_row(plan, name, rng, uuid=f"r{n}")
        key = rng.choice(sorted(row["properties"]))
        row["properties"][key] = rng.choice([None, 7, "x", True, [1], "a@b.co", 2.5])
        if n % 5 == 0:
            row["properties"]["undocumented_thing"] = 1
        rows.append(row)
    path = tmp_path / "mutated.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    expected = duckdb_counts(plan, path)
    assert len(expected) > 10
    assert clickhouse_counts(plan, path, tmp_path) == expected


def test_hogql_form_parses_and_uses_hogql_syntax(plan) -> None:
    text = emit_sql(plan, "hogql")
    tree = sqlglot.parse_one(text, read="clickhouse")
    assert tree.find(sqlglot.exp.Select) is not None
    assert "countIf(properties.mode IS NULL)" in text
    assert "INTERVAL 30 DAY" in text
    assert "Left out" in text and "identity_violation" in text.splitlines()[1]
    assert "properties.mode NOT IN" in text


def test_the_warehouse_dialects_are_the_registrys() -> None:
    """One dialect registry: every audit renderer is for a dialect the funnel's registry has."""
    from compiler.audit import warehouse
    from compiler.funnel import dialects

    assert set(warehouse.DIALECTS) <= set(dialects.DIALECTS)
    assert {"clickhouse", "hogql"} <= set(warehouse.DIALECTS)
    assert all(dialects.get(n).audit_form in warehouse.FORMS for n in warehouse.DIALECTS)
