"""Generated SQL in real engines: ClickHouse (chdb) gives DuckDB's numbers on the same data, and
PostHog's own HogQL parser accepts every HogQL file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from funnel_people import Row, load_duckdb, people_rows
from funnel_plans import reshape

from compiler.funnel.render import QUERIES, query_sql
from compiler.plan import load_plan
from compiler.targets import sql as sql_target
from tests.conftest import PLAN_DIR

ROOT = Path(__file__).resolve().parent.parent
HOGQL_DIR = ROOT / "tests" / "hogql"


def clickhouse_session(rows: list[Row], tmp_path: Path):  # type: ignore[no-untyped-def]
    session = pytest.importorskip("chdb.session")
    path = tmp_path / "events.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for uid, event, did, ts, pid, props in rows:
            stamp = ts.strftime("%Y-%m-%d %H:%M:%S.%f")
            record = {"uuid": uid, "event": event, "distinct_id": did, "timestamp": stamp}
            out.write(json.dumps({**record, "person_id": pid, "properties": props}) + "\n")
    s = session.Session()
    s.query("CREATE DATABASE IF NOT EXISTS funnel ENGINE = Atomic")
    s.query("DROP TABLE IF EXISTS funnel.events")
    s.query(
        "CREATE TABLE funnel.events (uuid String, event String, distinct_id String, "
        "timestamp DateTime64(6, 'UTC'), person_id Nullable(String), properties String) "
        "ENGINE = MergeTree ORDER BY timestamp"
    )
    s.query(f"INSERT INTO funnel.events SELECT * FROM file('{path}', JSONEachRow)")
    s.query("USE funnel")
    return s


def normalise(value):  # type: ignore[no-untyped-def]
    if isinstance(value, float):  # sums of money: the engines add in different orders
        return float(f"{value:.12g}")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return value if value is None else str(value)


# A plan whose names and values hold a backslash and a quote (any plan whose conventions allow
# them): ClickHouse and HogQL read a backslash in a string literal as an escape, DuckDB does not.
ESCAPED = {"processing_completed": "processing\\completed's", "one-time": "one\\time's"}


def escaped_plan(tmp_path: Path):  # type: ignore[no-untyped-def]
    plan_dir = tmp_path / "escaped_plan"
    shutil.copytree(PLAN_DIR, plan_dir, ignore=shutil.ignore_patterns("synth_profile"))
    for path in plan_dir.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for old, new in ESCAPED.items():
            text = text.replace(old, new)
        if path.name == "plan.yaml":
            text = text.replace(
                "  event_name: '^[a-z][a-z0-9]*(_[a-z0-9]+)+$'", "  event_name: '.+'"
            )
        path.write_text(text, encoding="utf-8")
    result = load_plan(plan_dir)
    assert not result.errors, [d.format() for d in result.errors]
    assert "processing\\completed's" in result.plan.events
    return result.plan


def escaped_rows(rows: list[Row]) -> list[Row]:
    out = []
    for uid, event, did, ts, pid, props in rows:
        values = json.loads(props)
        if values.get("billing_period") == "one-time":
            values["billing_period"] = ESCAPED["one-time"]
        out.append((uid, ESCAPED.get(event, event), did, ts, pid, json.dumps(values)))
    return out


@pytest.mark.parametrize(
    ("with_person_id", "shape"),
    [(True, "shipped"), (False, "shipped"), (True, "reshaped"), (False, "escaped")],
)
def test_clickhouse_equals_duckdb(plan, tmp_path, with_person_id, shape):
    if shape == "reshaped":
        plan = reshape(plan, ["S0", "S2", "S4", "S7", "S8", "S9"])
    rows = people_rows(700, seed=13, with_person_id=with_person_id)
    if shape == "escaped":
        plan, rows = escaped_plan(tmp_path), escaped_rows(rows)
        assert any(r[1] == ESCAPED["processing_completed"] for r in rows)
        periods = {json.loads(r[5]).get("billing_period") for r in rows}
        assert ESCAPED["one-time"] in periods
    con = duckdb.connect()
    load_duckdb(con, rows, tmp_path)
    ch = clickhouse_session(rows, tmp_path)
    try:
        for name in QUERIES:
            expected = [
                [normalise(v) for v in r]
                for r in con.execute(query_sql(plan, name, "duckdb")).fetchall()
            ]
            result = ch.query(query_sql(plan, name, "clickhouse"), "JSONCompact")
            got = [[normalise(v) for v in r] for r in json.loads(result.bytes())["data"]]
            assert got == expected, name
            assert expected, name
    finally:
        ch.close()


def test_every_hogql_file_parses_with_posthogs_parser(plan, tmp_path):
    node = shutil.which("node")
    if node is None or not (HOGQL_DIR / "node_modules" / "@posthog" / "hogql-parser").is_dir():
        pytest.fail("node or tests/hogql/node_modules missing: run `make dev`")
    files = []
    for path, text in sql_target.render(plan).items():
        if path.parts[1] == "hogql":
            files.append(tmp_path / path.name)
            files[-1].write_text(text, encoding="utf-8")
    broken = tmp_path / "broken.sql"
    broken.write_text("SELEC event FROM events", encoding="utf-8")
    proc = subprocess.run(
        [node, str(HOGQL_DIR / "parse.mjs"), *map(str, files), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HOGQL_DIR,
    )
    results = {Path(r["file"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert len(results) == len(QUERIES) + 1
    assert not results["broken.sql"]["ok"]  # the parser does reject bad HogQL
    bad = {n: r["error"] for n, r in results.items() if not r["ok"] and n != "broken.sql"}
    assert not bad


def test_hogql_literals_read_back_as_written_by_posthogs_parser(tmp_path):
    """PostHog's parser reads each dialect literal back as the original text."""
    node = shutil.which("node")
    if node is None or not (HOGQL_DIR / "node_modules" / "@posthog" / "hogql-parser").is_dir():
        pytest.fail("node or tests/hogql/node_modules missing: run `make dev`")
    from compiler.funnel.dialects import get

    values = ["plain", "it's", "back\\slash", "\\'", "trailing\\", "ünïcødé \\n", "''"]
    script = tmp_path / "read.mjs"
    script.write_text(
        "import createHogQLParser from '@posthog/hogql-parser'\n"
        "import { readFileSync } from 'node:fs'\n"
        "const parser = await createHogQLParser()\n"
        "const ast = JSON.parse(parser.parseSelect(readFileSync(process.argv[2], 'utf8'), true))\n"
        "console.log(JSON.stringify(ast.select.map((c) => c.value)))\n",
        encoding="utf-8",
    )
    query = tmp_path / "q.sql"
    query.write_text("SELECT " + ", ".join(get("hogql").literal(v) for v in values), "utf-8")
    shutil.copy(script, HOGQL_DIR / "_read_literals.mjs")
    try:
        proc = subprocess.run(
            [node, "_read_literals.mjs", str(query)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=HOGQL_DIR,
        )
    finally:
        (HOGQL_DIR / "_read_literals.mjs").unlink()
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == values


def test_clickhouse_and_duckdb_literals_read_back_as_written():
    from compiler.funnel.dialects import get

    chdb = pytest.importorskip("chdb")
    values = ["plain", "it's", "back\\slash", "\\'", "trailing\\", "ünïcødé \\n", "''"]
    for value in values:
        got = json.loads(
            chdb.query(f"SELECT {get('clickhouse').literal(value)} AS v", "JSON").bytes()
        )
        assert got["data"][0]["v"] == value
        assert duckdb.sql(f"SELECT {get('duckdb').literal(value)}").fetchall() == [(value,)]


def test_json_path_reads_back_any_key():
    """The one JSON-path builder (audit samples, sequence keys, docs profile, DuckDB props)."""
    from compiler.funnel.dialects import json_path

    keys = ["plain", "$session_id", 'a"b', "a\\b", 'a\\"b', "x.y", "ü ñ", "$feature/new-ui", "\\"]
    for key in keys:
        doc = json.dumps({key: 1, "other": 2})
        got = duckdb.execute("SELECT json_extract(?::JSON, ?)", [doc, json_path(key)]).fetchall()
        assert got == [("1",)], (key, json_path(key))
