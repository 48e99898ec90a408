"""`trackplan rates` as a library: run the DuckDB funnel queries on an `events` table or view.

`compute(con, plan, window_days)` runs the same generated DuckDB SQL that `trackplan build` writes
(rendered here with the chosen conversion window) and returns a `RatesResult`
(compiler/funnel/results.py): every rate with its numerator, denominator and Jeffreys 95%
interval, the as-of moment churn windows are judged against, and for every section the plan
cannot support, one line saying why. `RatesResult.to_json()` is the JSON of
`trackplan rates --format json`; the report and `trackplan fit` read the result directly.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from compiler.funnel.builder import NotApplicable
from compiler.funnel.intervals import Proportion
from compiler.funnel.queries import objective_state
from compiler.funnel.render import query_sql
from compiler.funnel.results import (
    Factor,
    HazardCell,
    HazardCells,
    MonthChurn,
    RatesResult,
    RevenueRow,
)
from compiler.plan.model import Plan

Rows = list[tuple[Any, ...]]


def objective_factors(plan: Plan, transitions: dict[str, Proportion]) -> list[Factor]:
    """P(objective | first chain state) and its chain factors from the chain's reached counts:
    the same numbers objective_rate.sql gives (tested), without walking the chain again."""
    target = objective_state(plan)
    reached: dict[str, int] = {}
    for name, prop in transitions.items():
        to, frm = name.split("|")
        reached.setdefault(frm, prop.denominator)
        reached.setdefault(to, prop.numerator)
    chosen = plan.chain[: target.index + 1]
    if any(s.id not in reached for s in chosen):
        return []
    pairs = [(chosen[0], chosen[-1]), *zip(chosen, chosen[1:], strict=False)]
    return [
        Factor(f"P({b.name}|{a.name})", f"{b.id}|{a.id}", Proportion(reached[b.id], reached[a.id]))
        for a, b in pairs
    ]


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _bounds(con: Any) -> tuple[datetime | None, datetime | None]:
    """(first event, last event) in UTC, as the queries' `bounds` sees them."""
    row = con.execute(
        "SELECT min(timezone('UTC', timestamp)), max(timezone('UTC', timestamp)) FROM events"
    ).fetchone()
    return (_utc(row[0]), _utc(row[1])) if row else (None, None)


def _month(label: str, complete: bool, as_of: datetime | None, p: Proportion) -> MonthChurn:
    year, month = (int(x) for x in label.split("-"))
    days = calendar.monthrange(year, month)[1]
    observed = float(days)
    if not complete and as_of is not None:
        elapsed = (as_of - datetime(year, month, 1, tzinfo=UTC)).total_seconds() / 86400
        observed = round(max(0.0, min(float(days), elapsed)), 2)
    return MonthChurn(p, complete, observed, days)


def _hazard(plan: Plan, rows: Rows) -> HazardCells | None:
    if plan.hazard is None:
        return None
    names = tuple(plan.hazard.covariates)
    cells: dict[tuple[bool, ...], list[int]] = {}
    for row in rows:
        *flags, observed, churned, persons = row
        cell = cells.setdefault(tuple(bool(f) for f in flags), [0, 0, 0])
        cell[0] += int(persons) if observed else 0
        cell[1] += int(persons) if churned else 0
        cell[2] += int(persons)
    return HazardCells(
        names,
        plan.hazard.window_days,
        tuple(
            HazardCell(dict(zip(names, key, strict=True)), o, c, n)
            for key, (o, c, n) in sorted(cells.items())
        ),
    )


def _revenue(plan: Plan, rows: Rows) -> list[RevenueRow]:
    out = []
    for currency, gross, refunds, _net, events, refund_events, payers, entrants, missing in rows:
        out.append(
            RevenueRow(
                currency=str(currency) if currency else None,
                gross=float(gross or 0.0),
                refunds=float(refunds or 0.0),
                events=int(events),
                refund_events=int(refund_events),
                payers=int(payers),
                entrants=int(entrants) if plan.chain else None,
                missing_values=int(missing or 0),
            )
        )
    return out


class _Runner:
    def __init__(self, con: Any, plan: Plan, window_days: int | None, result: RatesResult):
        self.con, self.plan, self.window_days, self.result = con, plan, window_days, result

    def rows(self, section: str, name: str, windowed: bool = False) -> Rows:
        """The query's rows; none, with the reason kept, when the plan lacks what it measures."""
        try:
            sql = query_sql(self.plan, name, "duckdb", self.window_days if windowed else None)
        except NotApplicable as exc:
            self.result.skipped[section] = str(exc)
            return []
        return [tuple(r) for r in self.con.execute(sql).fetchall()]

    def section(self, section: str, fill: Callable[[], None]) -> None:
        try:
            fill()
        except NotApplicable as exc:
            self.result.skipped[section] = str(exc)


def compute(
    con: Any, plan: Plan, window_days: int | None = None, *, fit_only: bool = False
) -> RatesResult:
    """Every funnel rate over the `events` table or view on `con` (a DuckDB connection).

    `fit_only` computes just what `fit` needs (transitions and the churn-hazard cells)."""
    first, last = _bounds(con)
    result = RatesResult(window_days, as_of=_iso(last), first_event=_iso(first))
    run = _Runner(con, plan, window_days, result)
    for transition, num, den, _rate in run.rows("transitions", "transition_rates", True):
        result.transitions[str(transition)] = Proportion(int(num), int(den))
    hazard_rows = run.rows("hazard", "churn_hazard")
    result.hazard = _hazard(plan, hazard_rows) if "hazard" not in result.skipped else None
    if fit_only:
        return result

    def objective() -> None:
        factors = objective_factors(plan, result.transitions)
        if factors:
            result.objective, result.factors = factors[0], factors[1:]

    run.section("objective", objective)
    for name, num, den, _rate in run.rows("milestones", "milestones", True):
        result.milestones[str(name)] = Proportion(int(num), int(den))
    for month, num, den, _rate, complete in run.rows(
        "subscription_monthly", "subscription_churn_monthly"
    ):
        p = Proportion(int(num), int(den))
        result.subscription_monthly[str(month)] = _month(str(month), bool(complete), last, p)
    for days, num, den, _rate in run.rows("one_off", "one_off_churn"):
        result.one_off[int(days)] = Proportion(int(num), int(den))
    if plan.churn is not None:
        result.one_off_windows = tuple(sorted(set(plan.churn.windows)))
    result.revenue = _revenue(plan, run.rows("revenue", "revenue"))
    return result


__all__ = [
    "Factor",
    "HazardCell",
    "HazardCells",
    "MonthChurn",
    "RatesResult",
    "RevenueRow",
    "compute",
    "objective_factors",
]
