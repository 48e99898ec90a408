"""The features target: every model's feature + label SQL gives the same rows in ClickHouse (chdb)
as in DuckDB on synth exports of both plans (with person_id, and stitched without it), PostHog's
HogQL parser accepts it, and a hand-built export gives the value each feature kind must have."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from models_support import (
    SHIPPED,
    SHOPFAST,
    clickhouse,
    clickhouse_rows,
    duck,
    duckdb_rows,
    synth_export,
)

from compiler.plan import load_plan
from compiler.plan.model import Plan
from compiler.plan.model_models import ModelSpec
from compiler.targets import features as target

pytest.importorskip("chdb")
HOGQL_DIR = Path(__file__).resolve().parent / "hogql"


def _plan(path: Path) -> Plan:
    result = load_plan(path)
    assert not result.errors, [d.format() for d in result.errors]
    return result.plan


def _every_feature(plan: Plan) -> ModelSpec:
    """One of the plan's models with every feature the plan declares."""
    assert plan.models is not None
    first = next(iter(plan.models.models.values()))
    return replace(first, name="every_feature", features=tuple(plan.models.features.values()))


def _without_person_id(source: Path, target: Path) -> Path:
    with source.open(encoding="utf-8") as rows, target.open("w", encoding="utf-8") as out:
        for line in rows:
            row = json.loads(line)
            row.pop("person_id", None)
            out.write(json.dumps(row) + "\n")
    return target


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Path]:
    """A synth export of each plan, and the same people without person_id (to be stitched)."""
    out = {}
    for plan_dir in (SHIPPED, SHOPFAST):
        tmp = tmp_path_factory.mktemp(plan_dir.name)
        out[plan_dir.name, True] = synth_export(plan_dir, tmp / "export.jsonl", users=800)
        out[plan_dir.name, False] = _without_person_id(
            out[plan_dir.name, True], tmp / "stitched.jsonl"
        )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("plan_dir", [SHIPPED, SHOPFAST], ids=["shipped", "shopfast"])
@pytest.mark.parametrize("person_id", [True, False], ids=["person_id", "stitched"])
def test_clickhouse_agrees_with_duckdb_on_every_model(
    plan_dir: Path, person_id: bool, exports: dict[tuple[str, bool], Path], tmp_path: Path
) -> None:
    plan = _plan(plan_dir)
    assert plan.models is not None and plan.models.models
    con = duck(exports[plan_dir.name, person_id])
    chs = clickhouse(con, tmp_path)
    try:
        for spec in [*plan.models.models.values(), _every_feature(plan)]:
            expected = duckdb_rows(con, plan, spec)
            assert len(expected) > 40, spec.name
            assert clickhouse_rows(chs, plan, spec) == expected, spec.name
            people = {row[0] for row in expected}
            keys = {(row[0], row[1]) for row in expected}
            assert len(keys) == len(expected)  # one row per person and snapshot
            periods = spec.snapshot.count if spec.snapshot.kind == "every" else 1
            assert len(people) <= len(expected) <= periods * len(people)
            if not person_id:  # a stitched person is one of the export's distinct ids
                ids = {
                    r[0] for r in con.execute("SELECT DISTINCT distinct_id FROM events").fetchall()
                }
                assert people <= ids
    finally:
        chs.close()


def test_every_hogql_file_parses_with_posthogs_parser(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (HOGQL_DIR / "node_modules" / "@posthog" / "hogql-parser").is_dir():
        pytest.fail("node or tests/hogql/node_modules missing: run `make dev`")
    files = []
    for plan_dir in (SHIPPED, SHOPFAST):
        plan = _plan(plan_dir)
        for path, text in target.render(plan).items():
            if path.parts[1] == "hogql":
                files.append(tmp_path / f"{plan.name}_{path.name}")
                files[-1].write_text(text, encoding="utf-8")
    broken = tmp_path / "broken.sql"
    broken.write_text("SELECT count( FROM events", encoding="utf-8")
    proc = subprocess.run(
        [node, str(HOGQL_DIR / "parse.mjs"), *map(str, files), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HOGQL_DIR,
    )
    results = {Path(r["file"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert len(results) == len(files) + 1 and len(files) >= 7
    assert not results["broken.sql"]["ok"]  # the parser does reject bad HogQL
    assert not {n: r["error"] for n, r in results.items() if not r["ok"] and n != "broken.sql"}


def test_target_renders_three_dialects_per_model_and_skips_a_plan_without_models() -> None:
    plan = _plan(SHOPFAST)
    files = target.render(plan)
    assert plan.models is not None
    assert len(files) == 3 * len(plan.models.models)
    assert {p.parts[1] for p in files} == {"duckdb", "clickhouse", "hogql"}
    bare = replace(plan, models=None)
    assert target.render(bare) == {}
    assert "no models" in target.skipped(bare)["features"]


# --- a hand-built export where every feature kind's value is known -------------------------

DAY = "2026-01-0{}T{:02d}:00:00Z"


def _row(n: int, event: str, did: str, when: str, pid: str | None, **props: object) -> str:
    row = {
        "uuid": f"u{n}",
        "event": event,
        "distinct_id": did,
        "timestamp": when,
        **({"person_id": pid} if pid else {}),
        "properties": props,
    }
    return json.dumps(row)


HAND = [
    # p1 (person_id): snapshot = first app_opened + 1 day = 2026-01-02 00:00
    (
        "app_opened",
        "d1",
        DAY.format(1, 0),
        "p1",
        {"launch_type": "cold", "os": "ios", "utm_campaign": "spring"},
    ),
    (
        "product_viewed",
        "d1",
        DAY.format(1, 6),
        "p1",
        {"product_category": "grocery", "unit_price": 4},
    ),
    ("cart_item_added", "d1", DAY.format(1, 12), "p1", {"cart_value": 10}),
    (
        "product_viewed",
        "d1",
        DAY.format(1, 18),
        "p1",
        {"product_category": "beauty", "unit_price": 8},
    ),
    # after p1's snapshot: features never see these; the labels do
    ("app_opened", "d1", DAY.format(3, 0), "p1", {"launch_type": "push", "os": "android"}),
    ("order_placed", "d1", DAY.format(5, 0), "p1", {"order_total": 30, "currency": "EUR"}),
    ("order_refunded", "d1", "2026-01-10T00:00:00Z", "p1", {"refund_amount": 5, "currency": "EUR"}),
    # a2 -> u2 (no person_id: stitched by $identify); snapshot 2026-01-02 00:00
    ("app_opened", "a2", DAY.format(1, 0), None, {"launch_type": "push", "os": "android"}),
    ("$identify", "u2", DAY.format(1, 1), None, {"$anon_distinct_id": "a2"}),
    ("payment_declined", "u2", DAY.format(1, 2), None, {}),
    ("app_opened", "u2", DAY.format(1, 3), None, {"launch_type": "warm", "os": "ios"}),
    # p3: snapshot 2026-01-21; its label windows run past as_of (the last event, 2026-01-25)
    ("app_opened", "d3", "2026-01-20T00:00:00Z", "p3", {"os": "ios"}),
    # p4: snapshot 2026-01-26, after as_of: not scored yet
    ("app_opened", "d4", "2026-01-25T00:00:00Z", "p4", {"os": "ios"}),
]
# feature -> (p1, u2, p3)
EXPECTED = {
    "app_opens": (1, 2, 1),
    "app_opens_1d": (0, 1, 0),  # in (snapshot - 1 day, snapshot]: opens at 00:00 sit on the edge
    "push_opens": (0, 1, 0),
    "products_viewed": (2, 0, 0),
    "categories_viewed": (2, 0, 0),
    "carts": (1, 0, 0),
    "view_to_cart": (0.5, None, None),
    "biggest_cart": (10.0, None, None),
    "mean_viewed_price": (6.0, None, None),
    "viewed_price_total": (12.0, 0.0, 0.0),
    "declines": (0, 1, 0),
    "days_since_last_open": (1.0, 0.875, 1.0),
    "days_since_first_view": (0.75, None, None),
    "hours_to_first_cart": (0.5, None, None),
    "os": ("ios", "android", "ios"),
    "campaign": ("spring", None, None),
    "first_category": ("grocery", None, None),
    "last_category": ("beauty", None, None),
}


def _hand_spec(plan: Plan) -> ModelSpec:
    assert plan.models is not None
    features = dict(plan.models.features)
    base = features["app_opens"]
    features["app_opens_1d"] = replace(base, name="app_opens_1d", days=1)
    features["viewed_price_total"] = replace(
        features["mean_viewed_price"], name="viewed_price_total", kind="sum"
    )
    features["days_since_first_view"] = replace(
        features["products_viewed"], name="days_since_first_view", kind="days_since_first"
    )
    features["last_category"] = replace(
        features["first_category"], name="last_category", kind="last_value"
    )
    spec = plan.models.models["order_propensity"]
    return replace(spec, features=tuple(features[n] for n in EXPECTED))


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_hand_computed_export_gives_each_kinds_value(engine: str, tmp_path: Path) -> None:
    plan = _plan(SHOPFAST)
    export = tmp_path / "hand.jsonl"
    export.write_text(
        "\n".join(_row(i, e, d, t, p, **props) for i, (e, d, t, p, props) in enumerate(HAND)) + "\n"
    )
    con = duck(export)
    spec = _hand_spec(plan)
    revenue = replace(plan.models.models["revenue_30d"], features=spec.features)  # type: ignore[union-attr]
    if engine == "duckdb":
        rows, money = duckdb_rows(con, plan, spec), duckdb_rows(con, plan, revenue)
    else:
        chs = clickhouse(con, tmp_path)
        rows, money = clickhouse_rows(chs, plan, spec), clickhouse_rows(chs, plan, revenue)
        chs.close()
    by_person = {r[0]: r for r in rows}
    assert sorted(by_person) == ["p1", "p3", "u2"]  # p4's snapshot is after as_of
    for i, name in enumerate(EXPECTED, start=2):
        got = tuple(by_person[p][i] for p in ("p1", "u2", "p3"))
        assert got == EXPECTED[name], name
    assert by_person["p1"][1].startswith("2026-01-02 00:00:00")
    # orders_14d: p1 ordered on day 5 (observed: 01-16 <= as_of 01-25); p3 is not observed
    assert [by_person[p][-2:] for p in ("p1", "u2", "p3")] == [[1, 1], [0, 1], [0, 0]]
    # revenue_30d: 30 ordered - 5 refunded; its window (to 02-01) is not over by as_of
    assert {r[0]: r[-2:] for r in money}["p1"] == [25.0, 0]
    # snapshots every day from the first open, 3 times: a row per person and period
    every = replace(spec.snapshot, kind="every", days=1, count=3)
    periods = replace(spec, snapshot=every, features=spec.features[:1])
    if engine == "duckdb":
        rows = duckdb_rows(con, plan, periods)
    else:
        (tmp_path / "again").mkdir()
        chs = clickhouse(con, tmp_path / "again")
        rows = clickhouse_rows(chs, plan, periods)
        chs.close()
    p1 = [(r[1][:10], r[2]) for r in rows if r[0] == "p1"]
    assert p1 == [("2026-01-01", 1), ("2026-01-02", 1), ("2026-01-03", 2)]
    assert [r[1][:10] for r in rows if r[0] == "p4"] == ["2026-01-25"]  # later ones: after as_of


def test_shopfast_features_golden(golden) -> None:  # type: ignore[no-untyped-def]
    golden("features_shopfast", target.render(_plan(SHOPFAST)))
