"""`trackplan rates` as a library: run the DuckDB funnel queries on an `events` table or view.

`compute(con, plan, window_days)` runs the same generated DuckDB SQL that `trackplan build` writes
(rendered here with the chosen conversion window) and returns a `RatesResult`: every rate with its
numerator, denominator and Jeffreys 95% interval. `RatesResult.to_json()` is the JSON of
`trackplan rates --format json`; the report and `trackplan fit` read the result directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.funnel.builder import NotApplicable
from compiler.funnel.intervals import Proportion
from compiler.funnel.queries import PURCHASE_DECOMPOSITION
from compiler.funnel.render import query_sql
from compiler.plan.model import Plan


@dataclass(frozen=True)
class Factor:
    """One factor of P(purchase|click): a transition between two (not always adjacent) states."""

    label: str  # e.g. P(ClickedCTA|Landed)
    transition: str  # e.g. S2|S1
    proportion: Proportion


@dataclass(frozen=True)
class HazardCell:
    failed_job: bool
    slow_job: bool
    observed: int  # persons whose aha is at least 30 days before as_of
    churned: int
    persons: int  # persons who completed a job (observed or not)


@dataclass
class RatesResult:
    window_days: int | None
    transitions: dict[str, Proportion] = field(default_factory=dict)
    milestones: dict[str, Proportion] = field(default_factory=dict)
    purchase_per_click: Factor | None = None
    factors: list[Factor] = field(default_factory=list)
    subscription_monthly: dict[str, Proportion] = field(default_factory=dict)
    credit_pack: dict[int, Proportion] = field(default_factory=dict)
    hazard_cells: list[HazardCell] = field(default_factory=list)
    prd: dict[str, Proportion] = field(default_factory=dict)

    def factor_product(self) -> float | None:
        rates = [f.proportion.rate for f in self.factors]
        if not rates or any(r is None for r in rates):
            return None
        product = 1.0
        for rate in rates:
            product *= rate or 0.0
        return product

    def to_json(self) -> dict[str, Any]:
        ppc = self.purchase_per_click
        return {
            "window_days": self.window_days,
            "transitions": {k: p.to_json() for k, p in self.transitions.items()},
            "milestones": {k: p.to_json() for k, p in self.milestones.items()},
            "purchase_per_click": {
                **(ppc.proportion.to_json() if ppc else {}),
                "transition": ppc.transition if ppc else None,
                "factors": {
                    f.transition: {"label": f.label, **f.proportion.to_json()} for f in self.factors
                },
                "product_of_factors": self.factor_product(),
            },
            "churn": {
                "subscription_monthly": {
                    m: p.to_json() for m, p in self.subscription_monthly.items()
                },
                "credit_pack": {f"{d}d": p.to_json() for d, p in self.credit_pack.items()},
                "hazard_cells": [
                    {
                        "failed_job": c.failed_job,
                        "slow_job": c.slow_job,
                        "persons": c.persons,
                        "observed": c.observed,
                        "churned": c.churned,
                    }
                    for c in self.hazard_cells
                ],
            },
            "prd_queries": {k: p.to_json() for k, p in self.prd.items()},
        }


def purchase_factors(plan: Plan, transitions: dict[str, Proportion]) -> list[Factor]:
    """P(purchase|click) and its factors from the chain's reached counts: the same numbers
    purchase_per_click.sql gives (tested), without walking the chain a second time."""
    reached: dict[str, int] = {}
    for name, prop in transitions.items():
        to, frm = name.split("|")
        reached.setdefault(frm, prop.denominator)
        reached.setdefault(to, prop.numerator)
    by_id = {s.id: s for s in plan.states}
    chosen = [by_id[s] for s in PURCHASE_DECOMPOSITION if s in by_id and s in reached]
    if len(chosen) != len(PURCHASE_DECOMPOSITION):
        return []
    pairs = [(chosen[0], chosen[-1]), *zip(chosen, chosen[1:], strict=False)]
    return [
        Factor(f"P({b.name}|{a.name})", f"{b.id}|{a.id}", Proportion(reached[b.id], reached[a.id]))
        for a, b in pairs
    ]


def _rows(con: Any, plan: Plan, name: str, window_days: int | None) -> list[tuple[Any, ...]]:
    """The query's rows; none when the plan lacks what it measures."""
    try:
        sql = query_sql(plan, name, "duckdb", window_days)
    except NotApplicable:
        return []
    return [tuple(r) for r in con.execute(sql).fetchall()]


def _hazard_cells(rows: list[tuple[Any, ...]]) -> list[HazardCell]:
    cells: dict[tuple[bool, bool], list[int]] = {}
    for failed, slow, observed, churned, persons in rows:
        cell = cells.setdefault((bool(failed), bool(slow)), [0, 0, 0])
        cell[0] += int(persons) if observed else 0
        cell[1] += int(persons) if churned else 0
        cell[2] += int(persons)
    return [HazardCell(f, s, o, c, n) for (f, s), (o, c, n) in sorted(cells.items())]


def compute(
    con: Any, plan: Plan, window_days: int | None = None, *, fit_only: bool = False
) -> RatesResult:
    """Every funnel rate over the `events` table or view on `con` (a DuckDB connection).

    `fit_only` computes just what `fit` needs (transitions and the churn-hazard cells)."""
    result = RatesResult(window_days)
    for transition, num, den, _rate in _rows(con, plan, "transition_rates", window_days):
        result.transitions[str(transition)] = Proportion(int(num), int(den))
    result.hazard_cells = _hazard_cells(_rows(con, plan, "churn_hazard", None))
    factors = purchase_factors(plan, result.transitions)
    if factors:
        result.purchase_per_click, result.factors = factors[0], factors[1:]
    if fit_only:
        return result
    for name, num, den, _rate in _rows(con, plan, "milestones", window_days):
        result.milestones[str(name)] = Proportion(int(num), int(den))
    for month, num, den, _rate in _rows(con, plan, "subscription_churn_monthly", None):
        result.subscription_monthly[str(month)] = Proportion(int(num), int(den))
    for days, num, den, _rate in _rows(con, plan, "credit_pack_churn", None):
        result.credit_pack[int(days)] = Proportion(int(num), int(den))
    for name in ("prd_activation_rate", "prd_aha_rate", "prd_purchase_rate", "prd_churn_30d"):
        for num, den, _rate in _rows(con, plan, name, None):
            result.prd[name.removeprefix("prd_")] = Proportion(int(num), int(den))
    return result
