"""Churn, the hazard cells and revenue: the DuckDB SQL against per-person Python readings of
each definition (tests/funnel_reference.py), on generated people, some of them not observed for
the whole window."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from funnel_people import Row, load_duckdb, people_rows, write_jsonl
from funnel_reference import hazard_cells, one_off_churn, revenue

from compiler.cli.main import cli
from compiler.funnel.rates import compute
from compiler.funnel.render import query_sql

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = 60 * 24


def row(event: str, did: str, minutes: float, **props: object) -> Row:
    uid = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{event}{did}{minutes}"))
    return (uid, event, did, T0 + timedelta(minutes=minutes), None, json.dumps(props))


def cut(rows: list[Row], days: int) -> list[Row]:
    """The data as if exported `days` after the first event."""
    end = min(r[3] for r in rows) + timedelta(days=days)
    return [r for r in rows if r[3] <= end]


def run(plan, rows: list[Row], tmp_path: Path, name: str) -> list:
    con = duckdb.connect()
    load_duckdb(con, rows, tmp_path)
    return con.execute(query_sql(plan, name, "duckdb")).fetchall()


@pytest.mark.parametrize("days", [70, 120, None])
def test_one_off_churn_matches_a_per_person_reading(plan, tmp_path, days):
    rows = people_rows(3000, seed=31, days=60)
    rows = cut(rows, days) if days else rows
    churn = plan.churn
    classes = [(c.event, c.property, c.values) for c in churn.one_off_purchases]
    expected = one_off_churn(rows, classes, set(churn.activity_events), list(churn.windows))
    got = {d: (n, m) for d, n, m, _ in run(plan, rows, tmp_path, "one_off_churn")}
    assert got == expected
    if days == 70:  # someone bought too late to be judged at 30 days, most at 90
        assert expected[30][1] > 0 and expected[90][1] < expected[30][1]
    assert all(c <= n for c, n in expected.values())


def test_one_off_churn_small_case(plan, tmp_path):
    """Windows start at each person's own first one-off purchase; a subscription is not one."""
    rows = [
        row("purchase_completed", "back", 0, billing_period="one-time"),
        row("return_session", "back", 20 * DAY),  # active within 30 days
        row("purchase_completed", "quiet", 0, billing_period="one-time"),
        row("return_session", "quiet", 45 * DAY),  # only after 30 days
        row("topup_purchased", "topup", 10 * DAY),
        row("topup_purchased", "topup", 12 * DAY),  # another one-off purchase counts as active
        row("purchase_completed", "monthly", 0, billing_period="monthly"),  # not one-off
        row("purchase_completed", "recent", 50 * DAY, billing_period="one-time"),
        row("ad_click", "clock", 60 * DAY),  # as_of
    ]
    got = {d: (n, m) for d, n, m, _ in run(plan, rows, tmp_path, "one_off_churn")}
    assert got[30] == (1, 3)  # quiet churned; recent (10 days) not observed
    assert got[60] == (0, 2)  # back and quiet (bought 60 days before as_of) both returned


@pytest.mark.parametrize("days", [75, None])
def test_hazard_cells_match_a_per_person_reading(plan, tmp_path, days):
    rows = people_rows(3000, seed=41)
    rows = cut(rows, days) if days else rows
    h = plan.hazard
    ids = [s.id for s in plan.chain]
    covs = [(c.event, c.property, c.test, c.value) for c in h.covariates.values()]
    expected = hazard_cells(
        rows,
        [s.event for s in plan.chain],
        ids.index(h.at_risk),
        ids.index(h.anchor),
        covs,
        set(plan.churn.activity_events),
        set(plan.churn.cancel_events),
        h.window_days,
    )
    got = {}
    for *flags, observed, churned, persons in run(plan, rows, tmp_path, "churn_hazard"):
        cell = got.setdefault(tuple(bool(f) for f in flags), [0, 0, 0])
        cell[0] += persons
        cell[1] += persons if observed else 0
        cell[2] += persons if churned else 0
    assert {k: tuple(v) for k, v in got.items()} == expected
    assert len(expected) == 4
    if days:
        assert sum(v[1] for v in expected.values()) < sum(v[0] for v in expected.values())


def test_hazard_cells_count_covariates_up_to_the_anchor(plan, tmp_path):
    chain = [s.event for s in plan.chain][:9]  # up to S8, the anchor
    rows = []
    for who in ("early_fail", "late_fail", "slow", "stays"):
        rows += [row(e, who, i) for i, e in enumerate(chain) if e != "processing_completed"]
        ms = 200_000 if who == "slow" else 50_000
        rows.append(row("processing_completed", who, 6.5, processing_time_ms=ms))
    rows.append(row("processing_failed", "early_fail", 6.2))
    rows.append(row("processing_failed", "late_fail", 3 * DAY))  # after download: not counted
    rows.append(row("return_session", "stays", 10 * DAY))
    rows.append(row("ad_click", "clock", 60 * DAY))
    cells = run(plan, rows, tmp_path, "churn_hazard")
    # (has_failed_job, has_slow_job, observed, churned, persons)
    assert sorted(cells) == [(0, 0, 1, 0, 1), (0, 0, 1, 1, 1), (0, 1, 1, 1, 1), (1, 0, 1, 1, 1)]


def test_revenue_matches_an_independent_sum(plan, tmp_path):
    rows = people_rows(4000, seed=51)
    r = plan.revenue
    sources = [(s.event, s.value, s.currency) for s in r.events]
    refunds = [(s.event, s.value, s.currency) for s in r.refunds]
    expected, entrants = revenue(rows, sources, refunds, plan.chain[0].event)
    con = duckdb.connect()
    load_duckdb(con, rows, tmp_path)
    got = {x.currency or "": x for x in compute(con, plan).revenue}
    assert set(got) == set(expected) and {"USD", "EUR", ""} <= set(got)
    for cur, want in expected.items():
        mine = got[cur]
        assert mine.gross == pytest.approx(want["gross"], rel=1e-12)
        assert mine.refunds == pytest.approx(want["refunds"], rel=1e-12)
        assert mine.net == pytest.approx(want["gross"] - want["refunds"], rel=1e-12)
        assert (mine.events, mine.refund_events, mine.payers, mine.missing_values) == (
            want["events"],
            want["refund_events"],
            want["payers"],
            want["missing"],
        )
        assert mine.entrants == entrants
        assert mine.per_entrant == pytest.approx(mine.net / entrants)
    assert got["USD"].refunds > 0 and got["EUR"].gross > 0


def test_monthly_subscription_churn_flags_the_open_month(plan, tmp_path):
    rows = [
        row("subscription_started", "a", 0, subscription_id="sub_a"),
        row("subscription_canceled", "a", 40 * DAY, subscription_id="sub_a"),  # April
        row("subscription_started", "b", 5 * DAY, subscription_id="sub_b"),  # never canceled
        row("subscription_started", "c", 35 * DAY, subscription_id="sub_c"),  # April
        row("subscription_canceled", "c", 65 * DAY, subscription_id="sub_c"),  # May 5
        row("subscription_canceled", "x", 36 * DAY, subscription_id="sub_unknown"),  # no start
    ]
    got = run(plan, rows, tmp_path, "subscription_churn_monthly")
    assert got == [
        ("2026-03", 0, 0, None, 1),
        ("2026-04", 1, 2, 0.5, 1),
        ("2026-05", 1, 2, 0.5, 0),  # as_of is May 5: the month is not over
    ]
    con = duckdb.connect()
    load_duckdb(con, rows, tmp_path)
    may = compute(con, plan).subscription_monthly["2026-05"]
    assert may.partial and (may.observed_days, may.days) == (4.5, 31)  # as_of: May 5, 12:00


def test_a_month_with_no_data_after_its_first_day_is_partial_not_zero(plan, tmp_path):
    rows = [
        row("subscription_started", "a", 0, subscription_id="sub_a"),
        row("subscription_started", "b", 1, subscription_id="sub_b"),
        row("ad_click", "clock", 31 * DAY - 700),  # 2026-04-01 00:20: the data ends
    ]
    path = tmp_path / "subs.jsonl"
    write_jsonl(path, rows)
    out = CliRunner().invoke(cli, ["rates", str(path)])
    assert out.exit_code == 0, out.output
    april = next(line for line in out.output.splitlines() if line.strip().startswith("2026-04"))
    assert "partial: 0.01 of 30 days observed" in april and "0.00%" not in april
    data = json.loads(CliRunner().invoke(cli, ["rates", str(path), "--format", "json"]).output)
    month = data["churn"]["subscription_monthly"]["2026-04"]
    assert month["partial"] and month["denominator"] == 2 and month["observed_days"] == 0.01
