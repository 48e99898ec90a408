"""The BlankLogo profile's truth record: each person's latent parameters.

One record per person: ids, the last state reached, purchase_propensity (their P(purchase |
downloaded)), churn_hazard (their P(no return within 30 days of the first download); null for
people who never downloaded; cloglog in the covariates below, population.CHURN_COVARIATES),
expected_revenue (expected revenue within the 90-day horizon,
seen from the ad click: P(S8|S0) x propensity x the price list's expected value), and the
covariates that drive the hazard and the purchase propensity (catalog.PURCHASE_LOGIT_* and
CHURN_LOG_HR_*), acquisition attributes included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from compiler.simulation.config import SimConfig
from compiler.synth.profile import Person

from . import catalog as c
from .population import Population

FIELDS = (
    "person_id",
    "anon_distinct_id",
    "user_id",
    "reached_state",
    "purchase_propensity",
    "churn_hazard",
    "expected_revenue",
    "failed_job",
    "slow_job",
    "low_credits",
    "pricing_viewed",
    "minutes_to_first_job",
    "device",
    "geo",
    "campaign",
    "churned_30d",
)


@dataclass(frozen=True)
class Expected:
    """What every record's expected_revenue is made of, worked out once per run."""

    reach_s8: float  # P(S8|S0)
    purchase_value: float  # the price list's expected value of one purchase


def expected(config: SimConfig) -> Expected:
    reach_s8 = math.prod(config.rate(f"S{k}|S{k - 1}") for k in range(1, 9))
    return Expected(reach_s8, c.expected_purchase_value())


def record(x: Expected, pop: Population, person: Person) -> dict[str, Any]:
    i = person.index
    downloaded = bool(pop.reached[i] >= 8)
    return {
        "person_id": person.person_id,
        "anon_distinct_id": person.anon_distinct_id,
        "user_id": person.user_id,
        "reached_state": f"S{int(pop.reached[i])}",
        "purchase_propensity": round(float(pop.propensity[i]), 6),
        "churn_hazard": round(float(pop.hazard[i]), 6) if downloaded else None,
        "expected_revenue": round(x.reach_s8 * float(pop.propensity[i]) * x.purchase_value, 4),
        "failed_job": bool(pop.failed_before[i] > 0),
        "slow_job": bool(pop.slow[i]),
        "low_credits": bool(pop.grant[i] - 1 <= c.LOW_CREDITS and pop.reached[i] >= 7),
        "pricing_viewed": bool(pop.pricing[i]),
        "minutes_to_first_job": (
            round(float(pop.first_job_delay_s[i]) / 60, 3) if pop.reached[i] >= 6 else None
        ),
        "device": c.DEVICES[int(pop.device[i])][0],
        "geo": c.GEOS[int(pop.geo[i])],
        "campaign": c.CAMPAIGN_NAMES[int(pop.campaign[i])],
        "churned_30d": bool(pop.churned[i]) if downloaded else None,
    }
