"""Person-day rows for the churn hazard, from exports and the plan's `hazard` and `churn` sections.

Definitions (also printed by `trackplan hazard`):
- persons at risk, their anchor and their keys are the churn-hazard cells' (funnel/hazard_queries.py,
  the same `ev` persons as the audit and `rates`): persons who reached the hazard's `at_risk`
  chain state; anchor = their first time in the `anchor` state, else their at-risk time.
- day k = [anchor + k days, anchor + k + 1 days), k = 0, 1, ...; the anchor day counts as active.
- churn on day k: day k is the person's last active day before `inactivity days` days without an
  activity event (the churn section's, else the hazard state's rule events), or a cancel event on
  day k (the churn section's cancel events, else the state's or_events).
- a day is observed when its following inactivity window ended by as_of (the last event):
  k + 1 + inactivity days <= (as_of - anchor) in days. Rows run from day 0 to the churn day, the
  last observed day, or `max_days - 1`, whichever comes first (then censored).
- covariates on day k: each of the hazard's covariates as "its event (passing its test) happened
  on a day before k" (events before the anchor count from day 0), and `days_since_activity` =
  k - the last active day before k (0 on day 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from compiler.funnel.builder import Context, NotApplicable
from compiler.funnel.dialects import get, quote
from compiler.funnel.fragments import base, chain, in_list, value_test
from compiler.funnel.hazard_queries import activity
from compiler.models.person_periods import PersonPeriods
from compiler.plan.model import Plan

DAY_S = 86400.0
CLOCK = "days_since_activity"


@dataclass(frozen=True)
class HazardRows:
    rows: PersonPeriods
    person_ids: tuple[str, ...]  # row.person indexes this
    at_risk: int  # persons who reached the at-risk state
    too_recent: int  # at risk, but no day observed yet
    inactivity_days: int
    definition: str


def _sql(plan: Plan) -> tuple[str, int, list[str]]:
    """(DuckDB SQL: one row per person at risk and relevant event, inactivity days, covariates)."""
    hazard = plan.hazard
    if hazard is None:
        raise NotApplicable("the plan declares no hazard section")
    ctx = Context(plan, get("duckdb"))
    at_risk = plan.state(hazard.at_risk)
    anchor = plan.state(hazard.anchor) if hazard.anchor else at_risk
    if at_risk is None or anchor is None or at_risk.event is None or anchor.event is None:
        raise NotApplicable("the hazard's at_risk and anchor must be chain states")
    active, cancels = activity(plan, hazard)
    if not active:
        raise NotApplicable("the hazard has no activity events (no churn section, no rule events)")
    days = plan.churn.inactivity_days if plan.churn is not None else hazard.window_days
    texts: list[str] = []
    numbers: list[str] = []
    flags = []
    for i, c in enumerate(hazard.covariates.values()):
        cond = f"e.event = {quote(c.event)}"
        if c.property is not None and c.test is not None and c.value is not None:
            test, t, n = value_test("e.", c.property, c.test, (c.value,))
            cond, texts, numbers = f"{cond} AND {test}", texts + list(t), numbers + list(n)
        flags.append(f"CASE WHEN {cond} THEN 1 ELSE 0 END AS cov_{i}")
    a, h = at_risk.index, anchor.index
    when = f"s.t{a}" if a == h else f"coalesce(s.t{h}, s.t{a})"
    events = active + cancels + tuple(c.event for c in hazard.covariates.values())
    ctes = base(ctx, tuple(texts), tuple(numbers)) + chain(ctx)[: max(a, h) + 1]
    select = ",\n    ".join(
        [
            "s.person AS person",
            f"epoch(b.as_of) - epoch({when}) AS horizon_s",
            f"epoch(e.ts) - epoch({when}) AS at_s",
            f"CASE WHEN e.event IN {in_list(active)} THEN 1 ELSE 0 END AS act",
            (f"CASE WHEN e.event IN {in_list(cancels)} THEN 1 ELSE 0 END" if cancels else "0")
            + " AS cancel",
            *flags,
        ]
    )
    with_sql = ",\n".join(f"{n} AS MATERIALIZED (\n{sql}\n)" for n, sql in ctes)
    sql = (
        f"WITH {with_sql}\nSELECT\n    {select}\nFROM f{max(a, h)} AS s\nCROSS JOIN bounds AS b\n"
        f"LEFT JOIN ev AS e ON e.person = s.person AND e.event IN {in_list(events)}\n"
        f"WHERE s.t{a} IS NOT NULL\nORDER BY s.person"
    )
    return sql, days, list(hazard.covariates)


def _person(
    horizon_s: float, rows: list[tuple[float | None, ...]], days: int, max_days: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(days 0..K, event flags, covariates (K+1, k+1)) for one person, None if no day observed."""
    last = min(int(horizon_s // DAY_S) - days - 1, max_days - 1)
    if last < 0:
        return None
    hits = [r for r in rows if r[0] is not None]
    day = np.array([np.floor(float(r[0]) / DAY_S) for r in hits], dtype=np.int64)  # type: ignore[arg-type]
    act = np.array([bool(r[1]) for r in hits], dtype=bool)
    cancel = np.array([bool(r[2]) for r in hits], dtype=bool)
    active_days = np.unique(np.concatenate([[0], day[act & (day >= 0)]]))
    gaps = np.diff(np.append(active_days, np.iinfo(np.int64).max // 2))
    gone = active_days[gaps > days]
    ends = [int(gone[0])] if len(gone) else []
    stops = day[cancel & (day >= 0)]
    ends += [int(stops.min())] if len(stops) else []
    end = min(ends) if ends else None
    stop = last if end is None or end > last else end
    ks = np.arange(stop + 1)
    event = np.zeros(stop + 1, dtype=np.int64)
    event[-1] = int(end is not None and end <= last)
    X = np.zeros((stop + 1, k + 1))
    for i in range(k):
        marked = day[np.array([bool(r[3 + i]) for r in hits], dtype=bool)]
        if len(marked):
            X[:, i] = ks > marked.min()
    before = np.searchsorted(active_days, ks, side="left") - 1  # last active day < k
    X[:, k] = ks - np.where(before >= 0, active_days[np.maximum(before, 0)], 0)
    return ks, event, X


def hazard_rows(con: duckdb.DuckDBPyConnection, plan: Plan, max_days: int = 90) -> HazardRows:
    """Person-day rows from the `events` view; NotApplicable when the plan lacks the sections."""
    sql, days, names = _sql(plan)
    result = con.execute(sql).fetchall()
    by_person: dict[str, tuple[float, list[tuple[float | None, ...]]]] = {}
    for row in result:
        person, horizon = str(row[0]), float(row[1])
        by_person.setdefault(person, (horizon, []))[1].append(tuple(row[2:]))
    ids: list[str] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for person, (horizon, rows) in by_person.items():
        got = _person(horizon, rows, days, max_days, len(names))
        if got is not None:
            ids.append(person)
            parts.append(got)
    if parts:
        person_col = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
        rows_pp = PersonPeriods(
            person_col.astype(np.int64),
            np.concatenate([p[0] for p in parts]).astype(np.int64),
            np.concatenate([p[1] for p in parts]),
            np.vstack([p[2] for p in parts]),
            (*names, CLOCK),
        )
    else:
        empty = np.zeros(0, dtype=np.int64)
        rows_pp = PersonPeriods(empty, empty, empty, np.zeros((0, len(names) + 1)), (*names, CLOCK))
    return HazardRows(
        rows_pp,
        tuple(ids),
        len(by_person),
        len(by_person) - len(ids),
        days,
        (__doc__ or "").split("Definitions (also printed by `trackplan hazard`):\n")[-1],
    )
