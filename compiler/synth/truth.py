"""`synth --truth`: each person's latent parameters, to score models against later.

One record per person: ids, the last state reached, purchase_propensity (their P(purchase |
downloaded)), churn_hazard (their P(no return within 30 days of the first download); null for
people who never downloaded), expected_revenue (expected revenue within the 90-day horizon,
seen from the ad click: P(S8|S0) x propensity x the price list's expected value), and the
covariates that drive the hazard. `.jsonl` or `.csv`, chosen by the file name.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from compiler.simulation.config import SimConfig
from compiler.synth import catalog as c
from compiler.synth.population import Population

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
    "churned_30d",
)


class TruthError(ValueError):
    pass


def truth_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise TruthError(f"{path}: the truth file must end in .jsonl or .csv")


def records(config: SimConfig, pop: Population, people: Iterable[Any]) -> Iterable[dict[str, Any]]:
    reach_s8 = math.prod(t.rate for t in config.chain(8))
    value = c.expected_purchase_value()
    for person in people:
        i = person.index
        downloaded = bool(pop.reached[i] >= 8)
        yield {
            "person_id": person.person_id,
            "anon_distinct_id": person.anon_distinct_id,
            "user_id": person.user_id,
            "reached_state": f"S{int(pop.reached[i])}",
            "purchase_propensity": round(float(pop.propensity[i]), 6),
            "churn_hazard": round(float(pop.hazard[i]), 6) if downloaded else None,
            "expected_revenue": round(reach_s8 * float(pop.propensity[i]) * value, 4),
            "failed_job": bool(pop.failed_before[i] > 0),
            "slow_job": bool(pop.slow[i]),
            "low_credits": bool(pop.grant[i] - 1 <= c.LOW_CREDITS and pop.reached[i] >= 7),
            "churned_30d": bool(pop.churned[i]) if downloaded else None,
        }


def write_truth(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    if truth_format(path) == "jsonl":
        with path.open("wb") as f:
            for row in rows:
                f.write(orjson.dumps(row) + b"\n")
                count += 1
        return count
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, FIELDS, lineterminator="\n")
        out.writeheader()
        for row in rows:
            out.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    return count
