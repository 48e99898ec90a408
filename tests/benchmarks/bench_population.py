"""Benchmark: `simulate --persons` (compiler/models/population.py, vectorised in numpy) against a
plain per-person Python loop on the same model.

Headline: 1,000,000 persons x 90 days, one run (target: under 10 s). The model is shaped like
the one `trackplan hazard` fits on BlankLogo's synth export: two yes/no covariates and a
days-since-activity clock in both the hazard and the purchase propensity, a 90-day baseline of
about 1% a day, so most persons stay active all 90 days (the vectorised work is proportional to
person-days alive). The loop walks each person day by day with `random.random()`; it is timed on
LOOP_PERSONS persons and scaled linearly to 1M (its cost is linear in persons). The two are
compared on the loop's sample: mean active persons on the last day and purchases per person,
in standard errors.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import numpy as np

from compiler.models.hazard import HazardFit
from compiler.models.population import Population, Propensity, simulate_population

PERSONS, DAYS = 1_000_000, 90
LOOP_PERSONS = 20_000
NAMES = ("failed_job", "slow_job", "days_since_activity")


def _model() -> tuple[HazardFit, Propensity, Population]:
    baseline = tuple(float(b) for b in np.linspace(0.012, 0.006, DAYS))
    coef = (0.45, 0.2, 0.01)
    hazard = HazardFit(
        names=NAMES,
        coef=coef,
        std_err=(0.1, 0.1, 0.01),
        hazard_ratio=tuple(math.exp(c) for c in coef),
        hr_low=(1.0,) * 3,
        hr_high=(1.0,) * 3,
        periods=tuple(range(DAYS)),
        baseline=baseline,
        groups=tuple(range(DAYS)),
        n_persons=1,
        n_rows=1,
        n_events=1,
        loglik=0.0,
    )
    propensity = Propensity(NAMES, (-0.4, -0.2, -0.03), -2.5)
    rng = np.random.default_rng(0)
    rows = np.column_stack(
        [rng.random(5000) < 0.15, rng.random(5000) < 0.2, rng.integers(0, 5, 5000)]
    ).astype(float)
    return hazard, propensity, Population(rows, NAMES, ("days_since_activity",))


def _loop(
    hazard: HazardFit, propensity: Propensity, population: Population, persons: int
) -> tuple[int, int]:
    """(active on the last day, purchases): each person, day by day, in plain Python."""
    random.seed(1)
    alpha = [math.log(-math.log1p(-b)) for b in hazard.baseline]
    rows = population.X.tolist()
    active_last = purchases = 0
    for _ in range(persons):
        failed, slow, since = random.choice(rows)
        for day in range(DAYS):
            if day == DAYS - 1:
                active_last += 1
            logit = propensity.intercept + sum(
                c * v for c, v in zip(propensity.coef, (failed, slow, since), strict=True)
            )
            bought = random.random() < 1.0 / (1.0 + math.exp(-logit))
            purchases += bought
            eta = alpha[day] + sum(
                c * v for c, v in zip(hazard.coef, (failed, slow, since), strict=True)
            )
            if random.random() < -math.expm1(-math.exp(eta)):
                break
            since = 1.0 if bought else since + 1.0
    return active_last, purchases


def run() -> list[dict[str, Any]]:
    hazard, propensity, population = _model()
    start = time.perf_counter()
    result = simulate_population(hazard, propensity, 10.0, population, PERSONS, DAYS, 1, seed=1)
    vec_s = time.perf_counter() - start
    start = time.perf_counter()
    loop_last, loop_bought = _loop(hazard, propensity, population, LOOP_PERSONS)
    loop_s = time.perf_counter() - start
    scaled = loop_s * PERSONS / LOOP_PERSONS
    person_days = int(result.active.sum())
    # Agreement: the loop's sample against the vectorised run, in standard errors.
    share = result.active[0, -1] / PERSONS
    z_active = (loop_last / LOOP_PERSONS - share) / math.sqrt(share * (1 - share) / LOOP_PERSONS)
    per_person = result.purchases.sum() / PERSONS
    z_bought = (loop_bought / LOOP_PERSONS - per_person) / math.sqrt(per_person / LOOP_PERSONS)
    return [
        {
            "name": f"simulate --persons {PERSONS:,} --days {DAYS} (1 run)",
            "figures": f"{vec_s:.2f} s ({person_days / vec_s / 1e6:.1f} M person-days/s; "
            f"{person_days:,} person-days, {share:.1%} active on day {DAYS - 1})",
            "baseline": f"per-person Python loop: {scaled:,.0f} s, scaled from {LOOP_PERSONS:,} "
            f"persons in {loop_s:.1f} s (agreement: active on the last day z = {z_active:+.1f}, "
            f"purchases per person z = {z_bought:+.1f})",
            "ratio": f"{scaled / vec_s:,.0f}x faster",
        }
    ]
