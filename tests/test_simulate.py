"""The vectorised forecast, PRD §12's template as a reference case, and `trackplan simulate`."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.simulation.config import load_config
from compiler.simulation.forecast import OUTCOMES, expected, simulate
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


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    config = reference_config()
    return config, simulate(config, IMPRESSIONS, 20_000, seed=7)


def _within(value: float, outcomes: np.ndarray, sds: float = 4.5) -> bool:
    return abs(value - outcomes.mean()) <= sds * outcomes.std() + 1


def test_template_extra_churn_if_fail_never_applies() -> None:
    # Same random stream, wildly different failure penalties: identical results, because the
    # penalty sits in a branch that only runs when the job succeeded.
    results = []
    for penalty in (0.0, 0.2, 0.9):
        random.seed(11)
        results.append(simulate_cohort(300_000, TEMPLATE_RATES, extra_churn_if_fail=penalty))
    assert results[0] == results[1] == results[2]
    assert results[0]["churned_30d"] > 0


def test_fixed_template_raises_churn_when_jobs_fail() -> None:
    churned = []
    for penalty in (0.0, 0.7):
        random.seed(11)
        churned.append(simulate_cohort_fixed(300_000, TEMPLATE_RATES, extra_churn_if_fail=penalty))
    assert churned[1]["churned_30d"] > churned[0]["churned_30d"]


def test_vectorised_model_raises_churn_when_jobs_fail(reference) -> None:
    config, _ = reference
    harsh = replace(config, churn_hazard=replace(config.churn_hazard, extra_if_failed_job=0.6))
    worse_jobs = with_rate(config, "S7|S6", 0.5)
    base = expected(config, IMPRESSIONS)
    assert expected(harsh, IMPRESSIONS)["churned_30d"] > base["churned_30d"] + 50
    # Fewer successful jobs means more failures, which now churn more, not just fewer aha.
    assert expected(worse_jobs, IMPRESSIONS)["churned_30d"] > base["churned_30d"]
    a = simulate(config, IMPRESSIONS, 2000, seed=3).outcomes["churned_30d"].mean()
    b = simulate(harsh, IMPRESSIONS, 2000, seed=3).outcomes["churned_30d"].mean()
    assert b > a + 50


def test_matches_the_fixed_template_on_its_own_numbers(reference) -> None:
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
    # The bug shows: the template retains fewer people than the fixed model says.
    retained = forecast.outcomes["retained_30d"]
    assert template["retained_30d"] < retained.mean() - 4 * retained.std()


def test_means_converge_to_the_exact_expectation(reference) -> None:
    config, forecast = reference
    exact = expected(config, IMPRESSIONS)
    assert exact["purchasers"] == pytest.approx(
        IMPRESSIONS * 0.02 * 0.3 * 0.5 * 0.8 * 0.9 * 0.85 * 0.95 * 0.1
    )
    for name in OUTCOMES:
        sem = forecast.outcomes[name].std() / np.sqrt(forecast.runs)
        assert abs(forecast.mean()[name] - exact[name]) < 5 * sem + 1e-9, name


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


def test_overrides_by_prd_name_and_transition() -> None:
    config = load_config(SHIPPED)
    by_prd = apply_overrides(config, {"p_purchase": 0.12, "ctr": 0.03})
    assert by_prd.transitions["S9|S8"].rate == 0.12 and by_prd.click_through_rate == 0.03
    assert apply_overrides(config, {"S9|S8": 0.12}) == apply_overrides(config, {"p_purchase": 0.12})


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["simulate", "--config", str(SHIPPED), *args])


def test_cli_json_shape_and_sweep() -> None:
    result = _run(
        "--impressions", "1000000", "--runs", "2000", "--seed", "1", "--sweep", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc["mean"]) == set(OUTCOMES) == set(doc["quantiles"])
    q = doc["quantiles"]["purchasers"]
    assert q["p5"] <= q["p50"] <= q["p95"]
    best_point = next(r for r in doc["sweep"] if r["change"] == "+1pt")
    # With p_purchase at 0.10, the lowest rate on the path, +1 point there is worth the most.
    assert best_point["transition"] == "S9|S8"
    assert all(r["gain"] == 0 for r in doc["sweep"] if r["transition"] == "S10|S9")


def test_cli_set_changes_the_forecast() -> None:
    base = json.loads(
        _run("--impressions", "1000000", "--runs", "500", "--seed", "1", "--format", "json").output
    )
    more = json.loads(
        _run(
            "--impressions",
            "1000000",
            "--runs",
            "500",
            "--seed",
            "1",
            "--set",
            "p_purchase=0.2",
            "--format",
            "json",
        ).output
    )
    assert more["mean"]["purchasers"] == pytest.approx(2 * base["mean"]["purchasers"], rel=0.05)
    table = _run("--impressions", "1000", "--runs", "10", "--set", "S9|S8=0.5")
    assert table.exit_code == 0 and "purchasers" in table.output


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("p_purchse=0.1", "Did you mean 'p_purchase'?"),
        ("S9|S7=0.1", "unknown parameter 'S9|S7'"),
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
