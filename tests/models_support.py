"""What the model tests share: synth exports, loading an export into DuckDB and into chdb, and
running a model's feature SQL in both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.exports import open_events
from compiler.models.features import render
from compiler.plan.model import Plan
from compiler.plan.model_models import ModelSpec

ROOT = Path(__file__).resolve().parent.parent
SHOPFAST = ROOT / "tests" / "fixtures" / "plans" / "shopfast"
SHIPPED = ROOT / "tracking_plan"


def synth_export(plan_dir: Path, path: Path, users: int, days: int = 90, seed: int = 3) -> Path:
    result = CliRunner().invoke(
        cli,
        [
            "synth",
            "--plan",
            str(plan_dir),
            "--users",
            str(users),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "-o",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    return path


def duck(export: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    report = open_events(con, [str(export)])
    assert not report.errors, report.errors
    return con


def clickhouse(con: duckdb.DuckDBPyConnection, tmp: Path) -> Any:
    """A chdb session with the DuckDB `events` copied into a ClickHouse `events` table
    (properties a JSON string, as a warehouse export holds it)."""
    from chdb import session

    parquet = tmp / "events.parquet"
    con.execute(
        "COPY (SELECT uuid, event, distinct_id, timestamp, person_id, properties FROM events) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    chs = session.Session(str(tmp / "chdb"))
    chs.query("CREATE DATABASE IF NOT EXISTS models")
    chs.query(
        "CREATE TABLE models.events (uuid Nullable(String), event String, distinct_id "
        "Nullable(String), timestamp Nullable(DateTime64(6, 'UTC')), person_id Nullable(String), "
        f"properties String) ENGINE = MergeTree ORDER BY event AS SELECT * FROM "
        f"file('{parquet}', Parquet)"
    )
    return chs


def normalise(value: Any) -> Any:
    if isinstance(value, float):  # sums and means: the engines add in different orders
        return float(f"{value:.10g}")
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return str(value)


def duckdb_rows(con: duckdb.DuckDBPyConnection, plan: Plan, spec: ModelSpec) -> list[list[Any]]:
    return [[normalise(v) for v in r] for r in con.execute(render(plan, spec, "duckdb")).fetchall()]


def clickhouse_rows(chs: Any, plan: Plan, spec: ModelSpec) -> list[list[Any]]:
    result = chs.query("USE models; " + render(plan, spec, "clickhouse"), "JSONCompact")
    return [[normalise(v) for v in r] for r in json.loads(result.bytes())["data"]]
