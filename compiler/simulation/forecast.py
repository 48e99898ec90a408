"""Monte Carlo forecast of a cohort of ad impressions, vectorised over runs.

Each run draws its rates from their posteriors (parameter uncertainty), then pushes the cohort
through the funnel as a chain of binomial draws on counts (sampling noise): one numpy call per
step for all runs at once, so the cost does not depend on the number of impressions.

The model is PRD §12's with its churn bug fixed. Everyone who uploaded (reached S6) ran a job
that was slow with probability slow_job_share and succeeded with P(S7|S6). Their 30-day churn
probability is clip(base + extra_if_failed_job·failed + extra_if_slow_job·slow, 0, max), so a
failed job now raises churn (in the template it sat inside the success branch and never applied,
and every failed uploader was counted as churned outright). retained_30d = did not churn and came
back (P(S10|S9), the template's p_repeat_30d); churned_30d = uploaders who were not retained.
activated = reached S5 (logged in with credits), aha = S8 (downloaded), purchasers = S9.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.simulation.config import SimConfig, SimTransition
from compiler.simulation.parameters import CTR, apply_overrides, draw_rates

OUTCOMES = ("clicks", "activated", "aha", "purchasers", "retained_30d", "churned_30d")
QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


@dataclass(frozen=True)
class Forecast:
    impressions: int
    runs: int
    seed: int | None
    outcomes: dict[str, np.ndarray]  # name -> one count per run
    sweep: tuple[dict[str, Any], ...] = field(default=())

    def mean(self) -> dict[str, float]:
        return {k: float(v.mean()) for k, v in self.outcomes.items()}

    def quantiles(self) -> dict[str, dict[str, float]]:
        return {
            k: {q: float(np.quantile(v, p)) for q, p in QUANTILES.items()}
            for k, v in self.outcomes.items()
        }

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "impressions": self.impressions,
            "runs": self.runs,
            "seed": self.seed,
            "mean": self.mean(),
            "quantiles": self.quantiles(),
        }
        if self.sweep:
            out["sweep"] = list(self.sweep)
        return out


def _ctr_transition(config: SimConfig) -> SimTransition:
    return SimTransition(CTR, "impression", "S0", config.click_through_rate)


def simulate(
    config: SimConfig,
    impressions: int,
    runs: int,
    seed: int | None = None,
    overrides: dict[str, float] | None = None,
) -> Forecast:
    """Forecast `impressions` ad impressions `runs` times; `overrides` maps names to rates."""
    if impressions < 0 or runs < 1:
        raise ValueError("impressions must be >= 0 and runs >= 1")
    if overrides:
        config = apply_overrides(config, overrides)
    rng = np.random.default_rng(seed)
    rates = {t.name: draw_rates(t, runs, rng) for t in config.chain(10)}
    ctr = draw_rates(_ctr_transition(config), runs, rng)
    counts = {"S0": rng.binomial(impressions, ctr)}
    for k in range(1, 8):
        counts[f"S{k}"] = rng.binomial(counts[f"S{k - 1}"], rates[f"S{k}|S{k - 1}"])
    uploaded, succeeded = counts["S6"], counts["S7"]
    aha = rng.binomial(succeeded, rates["S8|S7"])
    purchasers = rng.binomial(aha, rates["S9|S8"])
    retained = _retained(config, uploaded, succeeded, rates["S10|S9"], rng)
    outcomes = {
        "clicks": counts["S0"],
        "activated": counts["S5"],
        "aha": aha,
        "purchasers": purchasers,
        "retained_30d": retained,
        "churned_30d": uploaded - retained,
    }
    return Forecast(impressions, runs, seed, outcomes)


def churn_probability(config: SimConfig, failed: bool, slow: bool) -> float:
    h = config.churn_hazard
    p = h.base + (h.extra_if_failed_job if failed else 0.0) + (h.extra_if_slow_job if slow else 0.0)
    return min(max(p, 0.0), h.max)


def _retained(
    config: SimConfig,
    uploaded: np.ndarray,
    succeeded: np.ndarray,
    p_repeat: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Uploaders who survive the hazard and come back, summed over failed x slow groups."""
    share = config.churn_hazard.slow_job_share
    retained = np.zeros_like(uploaded)
    for failed, group in ((False, succeeded), (True, uploaded - succeeded)):
        slow = rng.binomial(group, share)
        for is_slow, n in ((True, slow), (False, group - slow)):
            p = (1.0 - churn_probability(config, failed, is_slow)) * p_repeat
            retained += rng.binomial(n, p)
    return retained


def _mean_rate(t: SimTransition) -> float:
    if t.alpha is not None and t.beta is not None:
        return t.alpha / (t.alpha + t.beta)
    return t.rate


def expected(config: SimConfig, impressions: float) -> dict[str, float]:
    """The exact expected value of every outcome (what the Monte Carlo means converge to)."""
    r = {t.name: _mean_rate(t) for t in config.chain(10)}
    reach = [impressions * config.click_through_rate]
    for k in range(1, 8):
        reach.append(reach[-1] * r[f"S{k}|S{k - 1}"])
    uploaded, succeeded = reach[6], reach[7]
    share = config.churn_hazard.slow_job_share
    retained = 0.0
    for failed, n in ((False, succeeded), (True, uploaded - succeeded)):
        for slow, w in ((True, share), (False, 1 - share)):
            retained += n * w * (1 - churn_probability(config, failed, slow)) * r["S10|S9"]
    aha = succeeded * r["S8|S7"]
    return {
        "clicks": reach[0],
        "activated": reach[5],
        "aha": aha,
        "purchasers": aha * r["S9|S8"],
        "retained_30d": retained,
        "churned_30d": uploaded - retained,
    }
