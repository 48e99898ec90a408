"""The churn hazard against synth's ground truth (issue 14, item 7): synth draws each person's
30-day churn from a proportional hazard with known log hazard ratios, and the discrete-time
cloglog fit, on person-day rows the product builds from the export, holds them in its 95%
intervals.

The hazard ratios synth used are not read from synth's code: they are solved from the truth
file (cloglog of each person's churn probability is linear in their covariates, exactly, or the
model is not a proportional hazard), and the three the plan declares are checked against the
plan's own numbers (log HR = cloglog(base + extra) - cloglog(base)).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from threadpoolctl import threadpool_limits

from compiler.cli.main import cli
from compiler.exports import open_events
from compiler.models.hazard import fit_hazard
from compiler.models.hazard_data import hazard_rows
from compiler.plan import load_plan
from compiler.simulation.config import config_from_plan
from compiler.synth.profile import load_profile
from tests.conftest import PLAN_DIR

pytest.importorskip("statsmodels")

USERS = 20_000
# The covariates synth's churn depends on, as the truth file records them.
COVARIATES = (
    "failed_job", "slow_job", "low_credits", "mobile", "tablet", "geo_br_in", "campaign_1",
    "campaign_2", "buyer",
)  # fmt: skip
PROFILE: Any = load_profile(PLAN_DIR, "synth_profile")


def cloglog(p: Any) -> Any:
    return np.log(-np.log1p(-np.asarray(p, dtype=np.float64)))


def truth_covariates(records: list[dict[str, Any]]) -> np.ndarray:
    names = PROFILE.catalog.CAMPAIGN_NAMES
    return np.array(
        [
            [
                r["failed_job"],
                r["slow_job"],
                r["low_credits"],
                r["device"] == "mobile",
                r["device"] == "tablet",
                r["geo"] in ("BR", "IN"),
                r["campaign"] == names[1],
                r["campaign"] == names[2],
                int(r["reached_state"][1:]) >= 9,
            ]
            for r in records
        ],
        dtype=np.float64,
    )


def true_log_hazard_ratios(records: list[dict[str, Any]]) -> tuple[np.ndarray, float]:
    """Least squares of cloglog(churn_hazard) on [1, covariates]: (coefficients, max residual)."""
    eta = cloglog([r["churn_hazard"] for r in records])
    design = np.column_stack([np.ones(len(records)), truth_covariates(records)])
    beta, *_ = np.linalg.lstsq(design, eta, rcond=None)
    return beta[1:], float(np.abs(design @ beta - eta).max())


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("hazard_truth")
    export, truth = tmp / "export.jsonl", tmp / "truth.jsonl"
    args = ["synth", "--users", str(USERS), "--days", "30", "--seed", "3"]
    result = CliRunner().invoke(cli, [*args, "--truth", str(truth), "-o", str(export)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
    return export, [r for r in records if r["churn_hazard"] is not None]


def test_synth_churn_is_a_proportional_hazard_with_the_plans_ratios(
    synth: tuple[Path, list[dict[str, Any]]],
) -> None:
    _, records = synth
    beta, residual = true_log_hazard_ratios(records)
    # Exactly linear on the cloglog scale (up to the truth file's 6 decimals): no latent term.
    assert residual < 1e-4
    hazard = load_plan(PLAN_DIR).plan.hazard
    assert hazard is not None
    base = float(cloglog(hazard.base))
    for j, name in enumerate(("failed_job", "slow_job")):
        extra = hazard.covariates[name].extra
        assert beta[j] == pytest.approx(float(cloglog(hazard.base + extra)) - base, abs=1e-4)
    low = PROFILE.catalog.EXTRA_CHURN_IF_LOW_CREDITS
    assert beta[2] == pytest.approx(float(cloglog(hazard.base + low)) - base, abs=1e-4)
    assert beta[3] == pytest.approx(PROFILE.catalog.CHURN_LOG_HR_DEVICE["mobile"], abs=1e-4)
    # The buyer term is solved so that buyers return at the config's P(S10|S9).
    buyers = truth_covariates(records)[:, -1] == 1
    stay = 1 - np.mean([r["churn_hazard"] for r, b in zip(records, buyers, strict=True) if b])
    assert stay == pytest.approx(config_from_plan(load_plan(PLAN_DIR).plan).rate("S10|S9"), 1e-3)


def test_fitted_hazard_ratios_hold_the_ones_synth_used(
    synth: tuple[Path, list[dict[str, Any]]],
) -> None:
    export, records = synth
    by_id = {r["person_id"]: r for r in records}
    con = duckdb.connect()
    open_events(con, [str(export)])
    data = hazard_rows(con, load_plan(PLAN_DIR).plan)
    r = data.rows
    # Day 0 of each person synth gave a churn draw: churn on day 0 is "no activity in the 30
    # days after the first download", the period synth's hazard is over. The plan's covariates
    # (failed_job, slow_job) come from the product's rows; the rest from the truth file.
    day0 = np.flatnonzero(r.period == 0)
    keep = [i for i in day0 if data.person_ids[r.person[i]] in by_id]
    assert len(keep) > 1500
    people = [by_id[data.person_ids[r.person[i]]] for i in keep]
    X = truth_covariates(people)
    X[:, :2] = r.X[keep][:, :2]
    assert np.mean(X[:, 0] == truth_covariates(people)[:, 0]) == 1.0
    with threadpool_limits(1):
        fit = fit_hazard(np.zeros(len(keep), dtype=np.int64), r.event[keep], X, list(COVARIATES))
    beta, _ = true_log_hazard_ratios(records)
    # The plan's hazard covariates, the ones `trackplan hazard` fits: each inside its interval.
    for j, name in enumerate(("failed_job", "slow_job")):
        true_hr = math.exp(beta[j])
        assert fit.hr_low[j] < true_hr < fit.hr_high[j], (name, fit.hazard_ratio[j], true_hr)
    # All nine at once: nine 95% intervals all hold only 63% of the time even when the model
    # is right, so the joint test is the Wald statistic of the true coefficients against
    # chi-square(9) at 0.999; the test below checks the intervals' coverage over replications.
    z = (np.array(fit.coef[: len(COVARIATES)]) - beta) / np.array(fit.std_err[: len(COVARIATES)])
    assert float(np.sum(z**2)) < 27.88


def test_the_fits_intervals_cover_synths_ratios_at_their_level() -> None:
    """Over independent populations drawn the way synth draws them (no events: the draw alone),
    the fitted 95% intervals hold the true hazard ratios about 95% of the time."""
    plan = load_plan(PLAN_DIR).plan
    world = PROFILE.prepare(plan, None)
    hits = trials = 0
    for seed in range(30):
        pop = PROFILE.draw(world, 12_000, 30, np.random.default_rng(seed))
        at_risk = pop.reached >= 8
        stats = {
            "failed_job": pop.failed_before > 0,
            "slow_job": pop.slow,
            "low_credits": (pop.grant - 1) <= PROFILE.catalog.LOW_CREDITS,
        }
        device = [name for name, _ in PROFILE.catalog.DEVICES]
        geos = np.array([g in ("BR", "IN") for g in PROFILE.catalog.GEOS])
        X = np.column_stack(
            [
                *stats.values(),
                pop.device == device.index("mobile"),
                pop.device == device.index("tablet"),
                geos[pop.geo],
                pop.campaign == 1,
                pop.campaign == 2,
                pop.reached >= 9,
            ]
        ).astype(np.float64)[at_risk]
        churned = (~pop.active[at_risk]).astype(np.int64)
        eta = cloglog(pop.hazard[at_risk])
        design = np.column_stack([np.ones(len(eta)), X])
        beta = np.linalg.lstsq(design, eta, rcond=None)[0][1:]
        with threadpool_limits(1):
            fit = fit_hazard(np.zeros(len(eta), dtype=np.int64), churned, X, list(COVARIATES))
        for j in range(len(COVARIATES)):
            hits += fit.hr_low[j] < math.exp(beta[j]) < fit.hr_high[j]
            trials += 1
    # 270 intervals at 95%: a binomial 99.9% range is about [0.90, 0.99].
    assert 0.90 <= hits / trials <= 0.99, hits / trials
