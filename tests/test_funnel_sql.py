"""The funnel SQL: DuckDB against a plain-Python reading of the definition, identity stitching
with and without person_id, the corrected PRD queries, and the generated files themselves."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import duckdb
import pytest
from funnel_people import Row, load_duckdb, people_rows
from funnel_reference import reached_counts

from compiler.funnel import dialects
from compiler.funnel.rates import compute
from compiler.funnel.render import QUERIES, query_sql
from compiler.targets import sql as sql_target

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def row(event: str, did: str, minutes: float, pid: str | None = None, **props: object) -> Row:
    uid = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{event}{did}{minutes}"))
    return (uid, event, did, T0 + timedelta(minutes=minutes), pid, json.dumps(props))


def run(plan, rows: list[Row], tmp_path: Path, name: str, window: int | None = None) -> list:
    con = duckdb.connect()
    load_duckdb(con, rows, tmp_path)
    return con.execute(query_sql(plan, name, "duckdb", window)).fetchall()


def transitions(plan, rows, tmp_path, window=None) -> dict[str, tuple[int, int]]:
    return {t: (n, d) for t, n, d, _ in run(plan, rows, tmp_path, "transition_rates", window)}


@pytest.mark.parametrize("with_person_id", [True, False])
def test_duckdb_counts_match_the_definition(plan, tmp_path, with_person_id):
    rows = people_rows(1500, seed=3, with_person_id=with_person_id)
    chain = [s.event for s in plan.states if s.event]
    expected = reached_counts(rows, chain)
    got = transitions(plan, rows, tmp_path)
    for k in range(1, len(chain)):
        assert got[f"S{k}|S{k - 1}"] == (expected[k], expected[k - 1]), f"S{k}|S{k - 1}"
    assert expected[-1] > 20  # the data reaches the end of the chain


def test_window_limits_each_step_from_t0(plan, tmp_path):
    rows = people_rows(800, seed=5)
    chain = [s.event for s in plan.states if s.event]
    expected = reached_counts(rows, chain, timedelta(days=1))
    got = transitions(plan, rows, tmp_path, window=1)
    assert [got[f"S{k}|S{k - 1}"][0] for k in range(1, len(chain))] == expected[1:]
    assert expected != reached_counts(rows, chain)  # the window really cuts someone


def test_stitching_merges_anonymous_and_identified_ids(plan, tmp_path):
    rows = [
        row("ad_click", "anon_a", 0),
        row("landing_view", "anon_a", 1),
        row("cta_click", "anon_a", 2),
        row("signup_submit", "anon_a", 3),
        row("$identify", "usr_a", 4, **{"$anon_distinct_id": "anon_a"}),
        row("login_success", "usr_a", 5),
        # alias: the server links usr_b to anon_b
        row("ad_click", "anon_b", 0),
        row("landing_view", "anon_b", 1),
        row("cta_click", "anon_b", 2),
        row("signup_submit", "anon_b", 3),
        row("$create_alias", "anon_b", 4, alias="usr_b"),
        row("login_success", "usr_b", 5),
    ]
    got = transitions(plan, rows, tmp_path)
    assert got["S1|S0"] == (2, 2)
    assert got["S4|S3"] == (2, 2)  # login under the user id continues the anonymous person


def test_without_stitching_events_split_into_two_persons(plan, tmp_path):
    rows = [
        row("ad_click", "anon_a", 0),
        row("landing_view", "anon_a", 1),
        row("cta_click", "anon_a", 2),
        row("signup_submit", "anon_a", 3),
        row("login_success", "usr_a", 5),  # no $identify: a different person
    ]
    assert transitions(plan, rows, tmp_path)["S4|S3"] == (0, 1)


def test_person_id_wins_over_distinct_ids(plan, tmp_path):
    rows = [
        row("ad_click", "anon_a", 0, pid="p1"),
        row("landing_view", "device_2", 1, pid="p1"),  # same person, another id, no $identify
        row("ad_click", "anon_b", 0, pid="p2"),
    ]
    assert transitions(plan, rows, tmp_path)["S1|S0"] == (1, 2)


def test_order_matters_and_repeats_count_once(plan, tmp_path):
    rows = [
        row("ad_click", "a", 0),
        row("cta_click", "a", 1),  # before landing: not S2
        row("landing_view", "a", 2),
        row("landing_view", "a", 3),
        row("ad_click", "b", 0),
        row("landing_view", "b", 1),
        row("cta_click", "b", 2),
    ]
    got = transitions(plan, rows, tmp_path)
    assert got["S1|S0"] == (2, 2)
    assert got["S2|S1"] == (1, 2)


def test_prd_purchase_rate_counts_only_buyers_who_downloaded(plan, tmp_path):
    late = 60 * 24 * 40  # minutes: keep as_of well after the start
    rows = [
        row("download_clicked", "a", late),
        row("purchase_completed", "a", late + 1),
        row("download_clicked", "b", late),
        row("purchase_completed", "c", late + 1),  # bought, never downloaded
        row("purchase_completed", "d", late - 5),
        row("download_clicked", "d", late),  # bought before downloading
    ]
    assert run(plan, rows, tmp_path, "prd_purchase_rate") == [(1, 3, 1 / 3)]


def test_retention_excludes_persons_not_yet_observed_for_30_days(plan, tmp_path):
    chain = [s.event for s in plan.states[:10]]
    day = 60 * 24
    rows = []
    for who, start in (("old", 0), ("new", 50 * day)):
        rows += [row(e, who, start + i) for i, e in enumerate(chain)]
    rows.append(row("return_session", "old", 5 * day))
    rows.append(row("return_session", "new", 50 * day + 60))
    rows.append(row("ad_click", "clock", 55 * day))  # as_of: 55 days after the start
    got = transitions(plan, rows, tmp_path)
    assert got["S9|S8"] == (2, 2)
    assert got["S10|S9"] == (1, 1)  # "new" purchased 5 days before as_of: not judged yet


def test_purchase_factors_multiply_to_purchase_per_click(plan, tmp_path):
    rows = people_rows(1000, seed=11)
    got = run(plan, rows, tmp_path, "purchase_per_click")
    total, factors = got[0], got[1:]
    assert total[1] == "S9|S0"
    product = 1.0
    for *_labels, _n, _d, rate in factors:
        product *= rate
    assert product == pytest.approx(total[-1], rel=1e-12)


def test_compute_factors_equal_the_purchase_per_click_sql(plan, tmp_path):
    con = duckdb.connect()
    load_duckdb(con, people_rows(900, seed=21), tmp_path)
    result = compute(con, plan, window_days=2)
    sql_rows = con.execute(query_sql(plan, "purchase_per_click", "duckdb", 2)).fetchall()
    assert result.purchase_per_click is not None
    mine = [result.purchase_per_click, *result.factors]
    assert [
        (f.label, f.transition, f.proportion.numerator, f.proportion.denominator) for f in mine
    ] == [tuple(r[:4]) for r in sql_rows]


def test_compute_and_json_shape(plan, tmp_path):
    con = duckdb.connect()
    load_duckdb(con, people_rows(600, seed=2), tmp_path)
    data = compute(con, plan).to_json()
    assert {"transitions", "milestones", "purchase_per_click", "churn"} <= data.keys()
    s1 = data["transitions"]["S1|S0"]
    assert set(s1) == {"numerator", "denominator", "rate", "ci_low", "ci_high"}
    assert s1["ci_low"] <= s1["rate"] <= s1["ci_high"]
    assert list(data["milestones"]) == list(plan.milestones)
    assert set(data["churn"]["credit_pack"]) == {"30d", "60d", "90d"}
    json.dumps(data)  # serialisable as is


def test_target_renders_every_query_per_dialect(plan):
    files = sql_target.render(plan)
    assert len(files) == len(dialects.DIALECTS) * len(QUERIES)
    for path, text in files.items():
        assert path.parts[0] == "sql" and path.parts[1] in dialects.DIALECTS
        assert text.startswith(f"-- {path.name} ({path.parts[1]}): ")
        assert "A person reaches S_k" in text
        assert not re.search(r"interval\s*'", text, re.IGNORECASE)  # HogQL interval syntax
    hogql = files[PurePosixPath("sql/hogql/transition_rates.sql")].split("Generated by")[1]
    assert "person_id AS person" in hogql  # PostHog resolves persons itself
    assert "$identify" not in hogql and "distinct_id" not in hogql


def test_unknown_dialect_suggests_the_closest():
    with pytest.raises(dialects.UnknownDialect, match="Did you mean 'clickhouse'"):
        dialects.get("clickhous")


def test_queries_follow_the_plan_not_hard_coded_events(plan, tmp_path):
    """Renaming a state's event in the plan changes the SQL."""
    from dataclasses import replace

    states = tuple(replace(s, event="page_landed") if s.id == "S1" else s for s in plan.states)
    changed = replace(plan, states=states)
    text = query_sql(changed, "transition_rates", "duckdb")
    assert "'page_landed'" in text and "'landing_view'" not in text


def test_a_plan_without_the_full_funnel_renders_what_it_supports(minimal_plan, tmp_path):
    files = sql_target.render(minimal_plan)
    assert sorted(p.name for p in files) == ["transition_rates.sql"] * len(dialects.DIALECTS)
    rows = [
        row("job_created", "a", 0),
        row("processing_completed", "a", 1),
        row("job_created", "b", 0),
    ]
    con = duckdb.connect()
    load_duckdb(con, rows, tmp_path)
    result = compute(con, minimal_plan)
    assert {k: (p.numerator, p.denominator) for k, p in result.transitions.items()} == {
        "S1|S0": (1, 2)
    }
    assert result.milestones == {} and result.hazard_cells == []


def test_hazard_cells_count_failures_and_slowness_up_to_the_first_download(plan, tmp_path):
    day = 60 * 24
    chain = [s.event for s in plan.states[:9]]  # S0 .. S8
    rows = []
    for who in ("early_fail", "late_fail", "slow", "stays"):
        rows += [row(e, who, i) for i, e in enumerate(chain) if e != "processing_completed"]
        ms = 200_000 if who == "slow" else 50_000
        rows.append(row("processing_completed", who, 6.5, processing_time_ms=ms))
    rows.append(row("processing_failed", "early_fail", 6.2))
    rows.append(row("processing_failed", "late_fail", 3 * day))  # after download: not counted
    rows.append(row("return_session", "stays", 10 * day))
    rows.append(row("ad_click", "clock", 60 * day))
    cells = run(plan, rows, tmp_path, "churn_hazard")
    # (failed_job, slow_job, observed, churned, persons)
    assert sorted(cells) == [(0, 0, 1, 0, 1), (0, 0, 1, 1, 1), (0, 1, 1, 1, 1), (1, 0, 1, 1, 1)]


def test_monthly_subscription_churn(plan, tmp_path):
    day = 60 * 24  # T0 is 2026-03-01 12:00
    rows = [
        row("subscription_started", "a", 0, subscription_id="sub_a"),
        row("subscription_canceled", "a", 40 * day, subscription_id="sub_a"),  # April
        row("subscription_started", "b", 5 * day, subscription_id="sub_b"),  # never canceled
        row("subscription_started", "c", 35 * day, subscription_id="sub_c"),  # April
        row("subscription_canceled", "c", 65 * day, subscription_id="sub_c"),  # May
        row("subscription_canceled", "x", 36 * day, subscription_id="sub_unknown"),  # no start
    ]
    got = run(plan, rows, tmp_path, "subscription_churn_monthly")
    assert got == [("2026-03", 0, 0, None), ("2026-04", 1, 2, 0.5), ("2026-05", 1, 2, 0.5)]
