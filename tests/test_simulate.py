"""The vectorised forecast: against a per-impression loop and a hand computation, PRD §12's
template as a reference case, the invariants over random chains, the sweep, and `simulate`."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from funnel_plans import reshape

from compiler.cli.main import cli
from compiler.simulation.config import config_from_plan, load_config
from compiler.simulation.forecast import MissingRates, expected, simulate
from compiler.simulation.parameters import apply_overrides, beta_shape, with_rate
from tests.reference.prd_template import (
    TEMPLATE_RATES,
    reference_config,
    simulate_cohort,
    simulate_cohort_fixed,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "generated" / "simulation" / "config.json"
IMPRESSIONS = 1_000_000  # 20,000 clicks: the template loop takes well under a second
OUTCOMES = ("clicks", "activated", "aha", "purchasers", "retained_30d", "churned_30d")


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    config = reference_config()
    return config, simulate(config, IMPRESSIONS, 20_000, seed=7)


def _within(value: float, outcomes: np.ndarray, sds: float = 4.5) -> bool:
    return abs(value - outcomes.mean()) <= sds * outcomes.std() + 1


def test_outcomes_are_the_plans(reference) -> None:
    config, forecast = reference
    assert tuple(forecast.outcomes) == OUTCOMES
    assert forecast.titles["retained_30d"] == "Retained 30 days"
    assert forecast.objective == "purchasers" and forecast.cohort_label == "impressions"


def test_template_extra_churn_if_fail_never_applies() -> None:
    # Same random stream, wildly different failure penalties: identical results, because the
    # penalty sits in a branch that only runs when the job succeeded.
    results = []
    for penalty in (0.0, 0.2, 0.9):
        random.seed(11)
        results.append(simulate_cohort(300_000, TEMPLATE_RATES, extra_churn_if_fail=penalty))
    assert results[0] == results[1] == results[2]
    assert results[0]["churned_30d"] > 0


def test_the_template_retains_more_people_than_it_has_buyers() -> None:
    random.seed(5)
    template = simulate_cohort(IMPRESSIONS, TEMPLATE_RATES)
    assert template["retained_30d"] > template["purchasers"]  # the bug the forecast fixes


def test_a_failed_job_raises_churn(reference) -> None:
    """The §12 fix: a covariate's extra (a failed job) raises churn among those at risk."""
    config, _ = reference
    h = config.hazard
    harsh_cov = replace(h.covariates["failed_job"], extra=0.6)
    harsh = replace(config, hazard=replace(h, covariates={**h.covariates, "failed_job": harsh_cov}))
    more_failures = replace(h.covariates["failed_job"], share=0.6)
    failing = replace(
        config, hazard=replace(h, covariates={**h.covariates, "failed_job": more_failures})
    )
    base = expected(config, IMPRESSIONS)["churned_30d"]
    assert expected(harsh, IMPRESSIONS)["churned_30d"] > base + 50
    assert expected(failing, IMPRESSIONS)["churned_30d"] > base + 50
    a = simulate(config, IMPRESSIONS, 2000, seed=3).outcomes["churned_30d"].mean()
    b = simulate(harsh, IMPRESSIONS, 2000, seed=3).outcomes["churned_30d"].mean()
    assert b > a + 50


def test_matches_a_per_impression_loop_on_the_templates_numbers(reference) -> None:
    _, forecast = reference
    random.seed(2026)
    fixed = simulate_cohort_fixed(IMPRESSIONS, TEMPLATE_RATES)
    for name in OUTCOMES:
        assert _within(fixed[name], forecast.outcomes[name]), (name, fixed[name])


def test_matches_the_template_where_the_bug_does_not_reach(reference) -> None:
    _, forecast = reference
    random.seed(2027)
    template = simulate_cohort(IMPRESSIONS, TEMPLATE_RATES)
    for name in ("clicks", "activated", "aha", "purchasers"):
        assert _within(template[name], forecast.outcomes[name]), (name, template[name])


def test_expected_equals_a_hand_computation(reference) -> None:
    config, _ = reference
    exact = expected(config, IMPRESSIONS)
    clicks = IMPRESSIONS * 0.02
    activated = clicks * 0.3 * 0.5 * 0.8  # S1|S0 and S5|S4 are 1 here
    job = activated * 0.9 * 0.85
    aha = job * 0.95
    purchasers = aha * 0.1
    # at risk: completed a job; failed 15%, slow 20%, independent; no cell reaches max 0.95
    churn = 0.25 + 0.20 * 0.15 + 0.10 * 0.20
    hand = {
        "clicks": clicks,
        "activated": activated,
        "aha": aha,
        "purchasers": purchasers,
        "retained_30d": purchasers * 0.4,
        "churned_30d": job * churn,
    }
    assert exact == pytest.approx(hand, rel=1e-12)


def test_means_converge_to_the_exact_expectation(reference) -> None:
    config, forecast = reference
    exact = expected(config, IMPRESSIONS)
    for name in OUTCOMES:
        sem = forecast.outcomes[name].std() / np.sqrt(forecast.runs)
        assert abs(forecast.mean()[name] - exact[name]) < 5 * sem + 1e-9, name


def test_retained_never_exceeds_purchasers_on_the_shipped_plan() -> None:
    forecast = simulate(load_config(SHIPPED), 10**7, 500, seed=1)
    out = forecast.outcomes
    assert (out["retained_30d"] <= out["purchasers"]).all()
    assert (out["purchasers"] <= out["aha"]).all() and (out["aha"] <= out["clicks"]).all()


def test_parameter_uncertainty_widens_the_forecast(reference) -> None:
    config, _ = reference
    t = config.transitions["S9|S8"]
    uncertain = config.with_transition(replace(t, ci_low=0.06, ci_high=0.14))
    narrow = simulate(config, IMPRESSIONS, 5000, seed=1).outcomes["purchasers"]
    wide = simulate(uncertain, IMPRESSIONS, 5000, seed=1).outcomes["purchasers"]
    assert wide.std() > 2 * narrow.std()
    a, b = beta_shape(uncertain.transitions["S9|S8"])
    assert a / (a + b) == pytest.approx(0.1)
    posterior = config.with_transition(replace(t, alpha=10.0, beta=90.0))
    assert (
        simulate(posterior, IMPRESSIONS, 5000, seed=1).outcomes["purchasers"].std()
        > 2 * narrow.std()
    )


def test_same_seed_same_forecast() -> None:
    config = load_config(SHIPPED)
    a = simulate(config, 10**7, 500, seed=5).to_json()
    b = simulate(config, 10**7, 500, seed=5).to_json()
    assert a == b


def test_overrides_by_alias_transition_entry_and_hazard() -> None:
    config = load_config(SHIPPED)
    by_alias = apply_overrides(config, {"p_purchase": 0.12, "entry": 0.03, "hazard.base": 0.1})
    assert by_alias.transitions["S9|S8"].rate == 0.12 and by_alias.entry.rate == 0.03
    assert by_alias.hazard.base == 0.1
    assert apply_overrides(config, {"S9|S8": 0.12}) == apply_overrides(config, {"p_purchase": 0.12})
    assert with_rate(config, "hazard.base", 0.99).hazard.base == config.hazard.max


def test_a_missing_rate_is_refused_by_name(plan, tmp_path) -> None:
    config = config_from_plan(reshape(plan, ["S0", "S2", "S4", "S7", "S8", "S9"]))
    with pytest.raises(MissingRates, match=r"no rate for cta\|click, login\|cta, job\|login"):
        simulate(config, 1000, 10)
    path = tmp_path / "config.json"
    path.write_text(config.dumps())
    result = CliRunner().invoke(cli, ["simulate", "--config", str(path), "--impressions", "10"])
    assert result.exit_code == 2
    assert "no rate for cta|click, login|cta, job|login" in result.output
    assert "Traceback" not in result.output
    sets = ["--set", "cta|click=0.3", "--set", "login|cta=0.5", "--set", "job|login=0.4"]
    given = CliRunner().invoke(
        cli, ["simulate", "--config", str(path), "--impressions", "10", "--runs", "3", *sets]
    )
    assert given.exit_code == 0, given.output


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["simulate", "--config", str(SHIPPED), *args])


def test_cli_json_shape_and_sweep_ties() -> None:
    result = _run(
        "--impressions", "1000000", "--runs", "2000", "--seed", "1", "--sweep", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc["mean"]) == set(OUTCOMES) == set(doc["quantiles"])
    assert doc["titles"]["purchasers"] == "Purchasers" and doc["impressions"] == 1_000_000
    q = doc["quantiles"]["purchasers"]
    assert q["p5"] <= q["p50"] <= q["p95"]
    relative = [r for r in doc["sweep"] if r["change"] == "+10%"]
    first = [r for r in relative if r["rank"] == 1]
    # +10% on any uncapped step before purchasers scales purchasers alike: a tie, not a winner
    assert {r["lever"] for r in first} == {
        "entry",
        "S2|S1",
        "S3|S2",
        "S4|S3",
        "S6|S5",
        "S7|S6",
        "S9|S8",
    }
    for r in first:
        assert set(r["tied_with"]) == {x["lever"] for x in first} - {r["lever"]}
        assert r["expected_gain"] == pytest.approx(first[0]["expected_gain"], rel=1e-9)
    entry = next(r for r in relative if r["lever"] == "entry")
    assert entry["assumption"] is True and entry["kind"] == "entry"
    # capped at 1: S8|S7 (0.95 -> 1) gains less and ranks alone, after the tie
    assert next(r for r in relative if r["lever"] == "S8|S7")["rank"] == 8
    assert all(r["expected_gain"] == 0 for r in doc["sweep"] if r["lever"] == "S10|S9")
    point = [r for r in doc["sweep"] if r["change"] == "+1pt" and r["lever"] != "entry"]
    # With p_purchase at 0.10, the lowest measured rate on the path, +1 point is worth the most.
    assert min(point, key=lambda r: r["rank"])["lever"] == "S9|S8"


def test_cli_table_names_ties_and_the_assumption() -> None:
    result = _run("--impressions", "1000000", "--runs", "200", "--seed", "1", "--sweep")
    assert result.exit_code == 0, result.output
    assert "best +10%: a tie of 7 levers: entry, S2|S1" in result.output
    assert "the entry rate is an assumption" in result.output
    assert "Retained 30 days" in result.output


def test_cli_set_changes_the_forecast() -> None:
    args = ("--impressions", "1000000", "--runs", "500", "--seed", "1", "--format", "json")
    base = json.loads(_run(*args).output)
    more = json.loads(_run(*args, "--set", "p_purchase=0.2").output)
    assert more["mean"]["purchasers"] == pytest.approx(2 * base["mean"]["purchasers"], rel=0.05)
    table = _run("--impressions", "1000", "--runs", "10", "--set", "S9|S8=0.5")
    assert table.exit_code == 0 and "Purchasers" in table.output


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("p_purchse=0.1", "Did you mean 'p_purchase'?"),
        ("S9|S7=0.1", "unknown parameter 'S9|S7'"),
        ("ctr=0.1", "unknown parameter 'ctr'"),
        ("p_purchase", "expected NAME=VALUE"),
        ("p_purchase=lots", "is not a number"),
        ("p_purchase=1.5", "within [0, 1]"),
    ],
)
def test_cli_bad_set_exits_2(setting: str, message: str) -> None:
    result = _run("--impressions", "100", "--set", setting)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_cli_defaults_to_the_plan_rates() -> None:
    plan_dir = ROOT / "tracking_plan"
    args = ["--impressions", "100000", "--runs", "50", "--seed", "3", "--format", "json"]
    from_plan = CliRunner().invoke(cli, ["simulate", "--plan", str(plan_dir), *args])
    assert from_plan.exit_code == 0, from_plan.output
    assert json.loads(from_plan.output) == json.loads(_run(*args).output)
