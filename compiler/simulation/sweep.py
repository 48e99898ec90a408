"""`simulate --sweep`: which single transition improvement gains the most purchasers.

Every transition S1|S0 ... S10|S9 is improved on its own, by one percentage point and by 10%
relative, and the cohort is forecast again with the same seed (common random numbers, so the
difference is the effect of the change and not noise between two independent runs). Rows are
ranked by the exact expected gain, so equal effects (in a chain of products, +10% relative on any
step scales purchasers alike) tie in a stable order instead of by noise.
"""

from __future__ import annotations

from typing import Any

from compiler.simulation.config import SimConfig
from compiler.simulation.forecast import expected, simulate
from compiler.simulation.parameters import PRD_NAMES, with_rate

CHANGES = {"+1pt": lambda r: r + 0.01, "+10%": lambda r: r * 1.10}
_PRD_BY_TRANSITION = {v: k for k, v in PRD_NAMES.items()}


def sweep(config: SimConfig, impressions: int, runs: int, seed: int | None) -> list[dict[str, Any]]:
    """Rows {transition, prd_name, change, from, to, purchasers, gain, expected_gain}, best first."""
    baseline = simulate(config, impressions, runs, seed).outcomes["purchasers"].mean()
    expected_base = expected(config, impressions)["purchasers"]
    rows = []
    for t in config.chain(10):
        for change, move in CHANGES.items():
            new_rate = min(move(t.rate), 1.0)
            varied = with_rate(config, t.name, new_rate)
            mean = simulate(varied, impressions, runs, seed).outcomes["purchasers"].mean()
            rows.append(
                {
                    "transition": t.name,
                    "prd_name": _PRD_BY_TRANSITION.get(t.name),
                    "change": change,
                    "from": t.rate,
                    "to": round(new_rate, 10),
                    "purchasers": float(mean),
                    "gain": float(mean - baseline),
                    "expected_gain": expected(varied, impressions)["purchasers"] - expected_base,
                }
            )
    rows.sort(key=lambda r: (-round(r["expected_gain"], 6), r["change"], r["transition"]))
    return rows


def best(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The top row for each kind of change."""
    return {c: next(r for r in rows if r["change"] == c) for c in CHANGES}
