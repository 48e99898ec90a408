"""One rule model, every warehouse dialect: the audit's SQL rendered through the registry's
`Dialect` methods gives the DuckDB engine's counts in DuckDB itself and in ClickHouse (chdb), on
the same mutated rows; the HogQL form passes PostHog's own parser."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compiler.audit import run_audit
from compiler.audit.rules import AuditRules
from compiler.audit.tables import PlanTables
from compiler.audit.warehouse import DIALECTS, OMITTED, emit_sql
from compiler.exports import open_events
from compiler.funnel import dialects
from compiler.plan import Plan
from tests.conftest import FIXTURES
from tests.export_rows import posthog_row

chdb = pytest.importorskip("chdb")
from chdb import session  # noqa: E402

SAMPLE = FIXTURES / "exports" / "sample_export.jsonl"
HOGQL_DIR = Path(__file__).parent / "hogql"
Counts = set[tuple[str, str | None, str | None, int]]
COLUMNS = "uuid, event, distinct_id, timestamp, person_id, properties"

# Values a mutated property takes: wrong types, nulls, unicode, arrays with odd items, PII.
ODD = [
    None,
    7,
    3.0,
    -1e9,
    2.5,
    "x",
    "",
    "éa",
    "a" * 300,
    True,
    [],
    [1],
    ["x", None],
    ["ünï"],
    [2.0, 1],
    {"nested": 1},
    "a@b.co",
    "+44 20 7946 0958",
    "2026-02-30",
    "2026-01-12T10:00:00Z",
]
ODD_KEYS = ["undocumented_thing", "odd/key", "t~ilde", "dotted.key", "ünïcode", "$set"]


def _rows(plan: Plan, seed: int, count: int = 120) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rules = AuditRules(plan)
    layers = PlanTables(rules).source_enum
    rows = []
    names = sorted(plan.events) + ["not_in_plan", "$pageview"]
    for n in range(count):
        name = names[n % len(names)]
        row = posthog_row(plan, name if name in plan.events else sorted(plan.events)[0], rng)
        row["event"], row["uuid"] = name, f"r{n}"
        props = row["properties"]
        for _ in range(rng.randint(0, 3)):
            action = rng.random()
            if action < 0.5 and props:
                props[rng.choice(sorted(props))] = rng.choice(ODD)
            elif action < 0.7 and props:
                del props[rng.choice(sorted(props))]
            else:
                props[rng.choice(ODD_KEYS)] = rng.choice(ODD)
        if n % 17 == 0:
            row["distinct_id"] = ""
        if n % 7 == 0 and rules.source_key is not None and layers:
            props[rules.source_key] = rng.choice(layers)  # sometimes a layer the event lacks
        if n % 11 == 0 and rules.deprecated:
            props[rng.choice(sorted(rules.deprecated))] = rng.choice(ODD)
        rows.append(row)
    return rows


def _write(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def engine_counts(plan: Plan, path: Path, parquet: Path) -> Counts:
    """The DuckDB audit engine's counts; the rows it read are written to `parquet`."""
    con = duckdb.connect()
    result = run_audit(con, open_events(con, [str(path)]), plan)
    con.execute(f"COPY (SELECT {COLUMNS} FROM events) TO '{parquet}' (FORMAT parquet)")
    return {
        (f.kind, f.event, f.property, f.count) for f in result.findings if f.kind not in OMITTED
    }


def duckdb_sql_counts(plan: Plan, parquet: Path) -> Counts:
    """The audit's SQL for DuckDB, over an `events` table with properties a JSON string."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events AS SELECT CAST(uuid AS VARCHAR) AS uuid, event, distinct_id, "
        f"timestamp, person_id, CAST(properties AS VARCHAR) AS properties FROM '{parquet}'"
    )
    return {(k, e, p, int(c)) for k, e, p, c in con.execute(emit_sql(plan, "duckdb")).fetchall()}


def clickhouse_sql_counts(plan: Plan, parquet: Path, tmp_path: Path) -> Counts:
    chs = session.Session(str(tmp_path / "chdb"))
    chs.query("CREATE DATABASE IF NOT EXISTS audit")
    chs.query(
        "CREATE TABLE audit.events (uuid Nullable(String), event String, distinct_id "
        "Nullable(String), timestamp Nullable(DateTime64(6, 'UTC')), person_id Nullable(String), "
        f"properties String) ENGINE = MergeTree ORDER BY event AS SELECT * FROM file('{parquet}', Parquet)"
    )
    text = str(chs.query("USE audit; " + emit_sql(plan, "clickhouse"), "CSVWithNames"))
    chs.close()
    return {
        (r["kind"], r["event"], r["property"] if r["property"] != "\\N" else None, int(r["count"]))
        for r in csv.DictReader(io.StringIO(text))
    }


def test_duckdb_sql_agrees_with_the_duckdb_engine_on_the_sample(plan: Plan, tmp_path: Path) -> None:
    parquet = tmp_path / "events.parquet"
    expected = engine_counts(plan, SAMPLE, parquet)
    assert ("wrong_source", "processing_completed", "source", 1) in expected
    assert duckdb_sql_counts(plan, parquet) == expected


def test_three_engines_agree_on_mutated_rows(plan: Plan, tmp_path: Path) -> None:
    """The DuckDB engine, the DuckDB SQL and the ClickHouse SQL, on rows with wrong types,
    nulls, odd arrays, unicode lengths, PII and keys holding / ~ . and non-ASCII."""
    parquet = tmp_path / "events.parquet"
    expected = engine_counts(plan, _write(tmp_path, _rows(plan, 5, 240)), parquet)
    kinds = {k for k, _, _, _ in expected}
    assert kinds == {
        "type_mismatch",
        "null_violation",
        "enum_violation",
        "constraint_violation",
        "wrong_source",
        "deprecated_property",
        "undocumented_property",
        "unknown_event",
        "pii_leak",
        "missing_required_property",
        "missing_envelope_field",
    }, kinds
    assert len(expected) > 80
    assert duckdb_sql_counts(plan, parquet) == expected
    assert clickhouse_sql_counts(plan, parquet, tmp_path) == expected


def test_the_shopfast_plan_renders_and_runs_in_duckdb(tmp_path: Path) -> None:
    from compiler.plan import load_plan

    shopfast = load_plan(FIXTURES / "plans" / "shopfast").plan
    parquet = tmp_path / "events.parquet"
    expected = engine_counts(shopfast, _write(tmp_path, _rows(shopfast, 2)), parquet)
    assert expected and duckdb_sql_counts(shopfast, parquet) == expected


def test_every_dialect_with_an_audit_form_renders_it() -> None:
    """The audit's dialects are the registry's, chosen by the dialect's own `audit_form`."""
    assert set(DIALECTS) == {n for n, d in dialects.DIALECTS.items() if d.audit_form}
    assert {"clickhouse", "hogql", "duckdb"} <= set(DIALECTS)
    assert (
        dialects.get("duckdb").json_type_names.keys()
        == dialects.get("clickhouse").json_type_names.keys()
    )


def test_the_hogql_form_parses_with_posthogs_parser(tmp_path: Path) -> None:
    """On the minimal plan, which has every check the HogQL form writes (the shipped plan's
    form takes the parser 10 s)."""
    from compiler.plan import load_plan

    plan = load_plan(FIXTURES / "plans" / "minimal").plan
    node = shutil.which("node")
    if node is None or not (HOGQL_DIR / "node_modules" / "@posthog" / "hogql-parser").is_dir():
        pytest.fail("node or tests/hogql/node_modules missing: run `make dev`")
    good = tmp_path / "audit.sql"
    good.write_text(emit_sql(plan, "hogql"), encoding="utf-8")
    broken = tmp_path / "broken.sql"
    broken.write_text(emit_sql(plan, "hogql").replace("countIf(", "countIf((", 1), "utf-8")
    assert "'wrong_source' AS kind" in good.read_text() and "'enum_violation'" in good.read_text()
    proc = subprocess.run(
        [node, str(HOGQL_DIR / "parse.mjs"), str(good), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HOGQL_DIR,
    )
    results = {Path(r["file"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert results["audit.sql"]["ok"], results["audit.sql"].get("error")
    assert not results["broken.sql"]["ok"]


def test_hogql_property_access_reads_back_the_key_in_posthogs_parser(tmp_path: Path) -> None:
    """`properties.x` where PostHog's parser reads the key x back, `properties['x']` elsewhere:
    never a tuple access (`properties.1abc`) or a syntax error (`properties.café`, `.null`)."""
    node = shutil.which("node")
    if node is None or not (HOGQL_DIR / "node_modules" / "@posthog" / "hogql-parser").is_dir():
        pytest.fail("node or tests/hogql/node_modules missing: run `make dev`")
    keys = ["plain", "$browser", "a$b", "_x", "1abc", "café", "null", "NaN", "Inf", "infinity"]
    keys += ["odd key", "it's", "back\\slash", "select", "e10"]
    hogql = dialects.get("hogql")
    query = tmp_path / "q.sql"
    query.write_text("SELECT " + ", ".join(hogql.prop(k) for k in keys) + " FROM events", "utf-8")
    script = HOGQL_DIR / "_read_props.mjs"
    script.write_text(
        "import createHogQLParser from '@posthog/hogql-parser'\n"
        "import { readFileSync } from 'node:fs'\n"
        "const parser = await createHogQLParser()\n"
        "const ast = JSON.parse(parser.parseSelect(readFileSync(process.argv[2], 'utf8'), true))\n"
        "console.log(JSON.stringify(ast.select.map((c) => c.node === 'Field' ? c.chain[1] :"
        " c.node === 'ArrayAccess' ? c.property.value : c.node)))\n",
        encoding="utf-8",
    )
    try:
        proc = subprocess.run(
            [node, script.name, str(query)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=HOGQL_DIR,
        )
    finally:
        script.unlink()
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == keys
    assert hogql.prop("plain") == "properties.plain" and hogql.prop("1abc").endswith("['1abc']")


def test_envelope_column_bounds_agree_in_every_engine(tmp_path: Path) -> None:
    """The envelope columns' rules (length both ways, pattern) are one definition
    (`tables.column_failures`) in the DuckDB engine and every warehouse form: a plan that bounds
    distinct_id's length and pattern gets the same counts from each, and the reference."""
    from compiler.plan import load_plan

    plan_dir = tmp_path / "plan"
    shutil.copytree(Path(__file__).parent.parent / "tracking_plan", plan_dir)
    props = plan_dir / "properties" / "envelope.yaml"
    text = props.read_text()
    bounded = "  distinct_id:\n    type: string\n    min_length: 1\n"
    assert bounded in text
    props.write_text(
        text.replace(bounded, bounded + "    max_length: 12\n    pattern: '^[a-z_0-9]+$'\n")
    )
    plan = load_plan(plan_dir).plan
    rows = _rows(plan, 9, 60)
    for n, row in enumerate(rows):
        row["distinct_id"] = ["usr_1", "anon_" + "x" * 20, "Ünï", "ok_id", ""][n % 5]
    path = _write(tmp_path, rows)
    parquet = tmp_path / "events.parquet"
    expected = engine_counts(plan, path, parquet)
    bad = [c for k, e, p, c in expected if (k, p) == ("constraint_violation", "distinct_id")]
    # too long, not the pattern, empty: every plan-event row but the two good ids
    assert sum(bad) == sum(
        1 for n, r in enumerate(rows) if n % 5 in (1, 2, 4) and r["event"] in plan.events
    )
    con = duckdb.connect()
    reference = run_audit(con, open_events(con, [str(path)]), plan, engine="jsonschema")
    assert {
        (f.kind, f.event, f.property, f.count) for f in reference.findings if f.kind not in OMITTED
    } == expected
    assert duckdb_sql_counts(plan, parquet) == expected
    assert clickhouse_sql_counts(plan, parquet, tmp_path) == expected
