"""Benchmark: `simulate` (vectorised binomial chains) against PRD §12's per-impression template.

The headline case is 10M impressions x 10,000 runs. The template loops over every impression in
pure Python, so it is timed on a smaller cohort (TEMPLATE_IMPRESSIONS x TEMPLATE_RUNS) in the
same run and extrapolated linearly in impressions x runs (its cost is linear in both). Expected
values are compared on that smaller cohort: the template's mean over its runs against the
vectorised mean, in standard errors. The template's retained_30d/churned_30d carry its churn bug,
so those two are compared with the per-impression copy of the forecast's semantics instead.
"""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np

from compiler.simulation.forecast import simulate
from tests.reference.prd_template import (
    TEMPLATE_RATES,
    reference_config,
    simulate_cohort,
    simulate_cohort_fixed,
)

IMPRESSIONS, RUNS = 10_000_000, 10_000
TEMPLATE_IMPRESSIONS, TEMPLATE_RUNS = 500_000, 20


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    config = reference_config()
    forecast, vec_s = _timed(simulate, config, IMPRESSIONS, RUNS, seed=1)
    random.seed(1)
    template_runs, tpl_s = _timed(
        lambda: [
            simulate_cohort(TEMPLATE_IMPRESSIONS, TEMPLATE_RATES) for _ in range(TEMPLATE_RUNS)
        ]
    )
    random.seed(2)
    fixed_runs = [
        simulate_cohort_fixed(TEMPLATE_IMPRESSIONS, TEMPLATE_RATES) for _ in range(TEMPLATE_RUNS)
    ]
    per_impression_run = tpl_s / (TEMPLATE_IMPRESSIONS * TEMPLATE_RUNS)
    extrapolated = per_impression_run * IMPRESSIONS * RUNS
    rows: list[dict[str, Any]] = [
        {
            "name": f"simulate {IMPRESSIONS:,} impressions x {RUNS:,} runs",
            "figures": f"{vec_s:.3f} s",
            "baseline": (
                f"PRD §12 template: {extrapolated:,.0f} s, extrapolated from "
                f"{TEMPLATE_IMPRESSIONS:,} x {TEMPLATE_RUNS} runs in {tpl_s:.2f} s"
            ),
            "ratio": f"{extrapolated / vec_s:,.0f}x faster",
        }
    ]
    small = simulate(config, TEMPLATE_IMPRESSIONS, RUNS, seed=2)
    for name in small.outcomes:
        reference = fixed_runs if name in ("retained_30d", "churned_30d") else template_runs
        values = np.array([r[name] for r in reference], dtype=float)
        mean, sd = small.outcomes[name].mean(), small.outcomes[name].std()
        z = (values.mean() - mean) / (sd / np.sqrt(len(values)))
        label = "fixed template" if reference is fixed_runs else "template"
        rows.append(
            {
                "name": f"E[{name}] per {TEMPLATE_IMPRESSIONS:,} impressions",
                "figures": f"{mean:,.1f} (vectorised, {RUNS:,} runs)",
                "baseline": f"{values.mean():,.1f} ({label}, {TEMPLATE_RUNS} runs)",
                "ratio": f"{z:+.2f} standard errors",
            }
        )
    for name in ("retained_30d", "churned_30d"):  # what the template's bug does to them
        values = np.array([r[name] for r in template_runs], dtype=float)
        mean, sd = small.outcomes[name].mean(), small.outcomes[name].std()
        z = (values.mean() - mean) / (sd / np.sqrt(len(values)))
        rows.append(
            {
                "name": f"E[{name}] per {TEMPLATE_IMPRESSIONS:,} impressions, template bug",
                "figures": f"{mean:,.1f} (vectorised, fixed model)",
                "baseline": f"{values.mean():,.1f} (template as written, {TEMPLATE_RUNS} runs)",
                "ratio": f"{z:+.2f} standard errors",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<45} {row['figures']:<32} {row['baseline']:<70} {row['ratio']}")
