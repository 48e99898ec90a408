"""PRD §12's Monte Carlo template, kept as a reference for tests and benchmarks.

`simulate_cohort` is a faithful copy of the template (only formatting changed). It has a bug:
`extra_churn_if_fail` sits inside the `if success and ...` branch, where `success` is always
True, so `(0 if success else extra_churn_if_fail)` is always 0 and a failed job never raises the
churn probability (every failed uploader is instead counted as churned outright).

`simulate_cohort_fixed` is a per-impression loop with the semantics the vectorised simulator
(compiler.simulation.forecast) implements: everyone at risk faces the hazard, a failed job adds
extra_churn_if_fail to it, and retention is conditioned on purchasers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from compiler.simulation.config import SimConfig, load_config
from compiler.simulation.parameters import apply_overrides


@dataclass
class Rates:
    ctr: float  # impressions -> click
    p_cta: float  # landing -> CTA click
    p_signup: float  # CTA -> signup submit
    p_login: float  # signup -> login success
    p_upload: float  # login -> upload attempt
    p_job_success: float  # upload -> job completed
    p_download: float  # job success -> download clicked
    p_purchase: float  # download -> purchase
    p_repeat_30d: float  # returning usage within 30 days


# The template's own numbers (its "Usage" comment): the reference case.
TEMPLATE_RATES = Rates(
    ctr=0.02,
    p_cta=0.30,
    p_signup=0.50,
    p_login=0.80,
    p_upload=0.90,
    p_job_success=0.85,
    p_download=0.95,
    p_purchase=0.10,
    p_repeat_30d=0.40,
)


def simulate_cohort(
    impressions: int,
    rates: Rates,
    base_churn: float = 0.25,
    extra_churn_if_fail: float = 0.20,
    extra_churn_if_slow: float = 0.10,
    slow_rate: float = 0.20,
):  # type: ignore[no-untyped-def]
    clicks = sum(1 for _ in range(impressions) if random.random() < rates.ctr)

    activated = 0
    aha = 0
    purchasers = 0
    retained_30d = 0
    churned_30d = 0

    for _ in range(clicks):
        if (
            random.random() < rates.p_cta
            and random.random() < rates.p_signup
            and random.random() < rates.p_login
        ):
            activated += 1

            if random.random() < rates.p_upload:
                slow = random.random() < slow_rate
                success = random.random() < rates.p_job_success

                if success and random.random() < rates.p_download:
                    aha += 1

                    if random.random() < rates.p_purchase:
                        purchasers += 1

                    churn_prob = (
                        base_churn
                        + (0 if success else extra_churn_if_fail)
                        + (extra_churn_if_slow if slow else 0)
                    )
                    churn_prob = min(max(churn_prob, 0), 0.95)

                    if random.random() < (1 - churn_prob) and random.random() < rates.p_repeat_30d:
                        retained_30d += 1
                    else:
                        churned_30d += 1
                else:
                    churned_30d += 1

    return {
        "impressions": impressions,
        "clicks": clicks,
        "activated": activated,
        "aha": aha,
        "purchasers": purchasers,
        "retained_30d": retained_30d,
        "churned_30d": churned_30d,
        "purchase_rate_per_click": purchasers / clicks if clicks else 0.0,
        "activation_rate_per_click": activated / clicks if clicks else 0.0,
    }


def simulate_cohort_fixed(
    impressions: int,
    rates: Rates,
    base_churn: float = 0.25,
    extra_churn_if_fail: float = 0.20,
    extra_churn_if_slow: float = 0.10,
    slow_rate: float = 0.20,
    fail_rate: float = 0.15,
) -> dict[str, float]:
    """The template rewritten per person with the forecast's semantics (compiler.simulation.
    forecast), as an independent per-impression reference:

    - a person who completed a job (the hazard's at-risk state) had a failed job with
      probability fail_rate and a slow one with slow_rate, independently, and churns with
      clip(base + extra_if_fail·failed + extra_if_slow·slow, 0, 0.95): a failure now raises
      churn (in the template it sat in the success branch and never applied);
    - retained_30d is conditioned on purchasers: a purchaser comes back with p_repeat_30d (the
      template applied the repeat rate to every uploader, so retained could exceed purchasers).
    """
    clicks = sum(1 for _ in range(impressions) if random.random() < rates.ctr)
    activated = aha = purchasers = retained_30d = churned_30d = 0
    for _ in range(clicks):
        if not (
            random.random() < rates.p_cta
            and random.random() < rates.p_signup
            and random.random() < rates.p_login
        ):
            continue
        activated += 1
        if random.random() >= rates.p_upload or random.random() >= rates.p_job_success:
            continue
        failed = random.random() < fail_rate
        slow = random.random() < slow_rate
        churn_prob = (
            base_churn
            + (extra_churn_if_fail if failed else 0)
            + (extra_churn_if_slow if slow else 0)
        )
        churned_30d += random.random() < min(max(churn_prob, 0), 0.95)
        if random.random() >= rates.p_download:
            continue
        aha += 1
        if random.random() >= rates.p_purchase:
            continue
        purchasers += 1
        retained_30d += random.random() < rates.p_repeat_30d
    return {
        "impressions": impressions,
        "clicks": clicks,
        "activated": activated,
        "aha": aha,
        "purchasers": purchasers,
        "retained_30d": retained_30d,
        "churned_30d": churned_30d,
    }


def reference_config(rates: Rates = TEMPLATE_RATES) -> SimConfig:
    """The shipped config with the template's numbers; the template has no landing-loss or
    credits-grant step, so S1|S0 and S5|S4 are 1. The entry rate is the template's ctr."""
    path = Path(__file__).resolve().parents[2] / "generated" / "simulation" / "config.json"
    overrides = {name: getattr(rates, name) for name in rates.__dataclass_fields__ if name != "ctr"}
    overrides |= {"entry": rates.ctr, "S1|S0": 1.0, "S5|S4": 1.0}
    return apply_overrides(load_config(path), overrides)
