"""The churn-hazard cells (PRD §6, §12), from the plan's `hazard` section.

Definitions (also in the README and the query header), over persons at risk (persons who reached
the hazard's `at_risk` chain state):
- anchor time: the person's first time in the `anchor` chain state, else their at-risk time.
- a covariate holds when the person has at least one of its event (whose property passes the
  covariate's test, when it has one) at or before their anchor time. Only events up to the
  anchor count: persons who stay produce more events afterwards, so counting later ones would tie
  a covariate to *not* churning (survivorship).
- observed: anchor time + window_days <= as_of.
- churned: observed, and no activity event in (anchor, anchor + window_days], or a cancel event
  in that window. Activity and cancel events are the churn section's (`activity_events`,
  `cancel_events`); without a churn section, the hazard state's rule events and its or_events.
`trackplan fit` turns the cells into base + each covariate's extra, and each covariate's share.
"""

from __future__ import annotations

import re

from compiler.funnel.builder import Context, NotApplicable, Query
from compiler.funnel.dialects import Dialect
from compiler.funnel.fragments import base, chain, in_list, step, value_test
from compiler.plan.model import FunnelState, Plan
from compiler.plan.model_analytics import Covariate, Hazard


def covariate_column(name: str) -> str:
    return "has_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def activity(plan: Plan, hazard: Hazard) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(activity events, cancel events) that decide whether an at-risk person churned."""
    if plan.churn is not None:
        return plan.churn.activity_events, plan.churn.cancel_events
    state = plan.state(hazard.state)
    rule = state.rule if state else None
    return (rule.events, rule.or_events) if rule else ((), ())


def _covariate(
    c: Covariate, before: str, d: Dialect
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    cond = f"e.event = {d.literal(c.event)}"
    texts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    if c.property is not None and c.test is not None and c.value is not None:
        test, texts, numbers = value_test("e.", c.property, c.test, (c.value,), d)
        cond += f" AND {test}"
    return f"{cond} AND e.ts <= {before}", texts, numbers


def _states(plan: Plan, hazard: Hazard) -> tuple[FunnelState, FunnelState]:
    at_risk = plan.state(hazard.at_risk)
    anchor = plan.state(hazard.anchor) if hazard.anchor else at_risk
    if at_risk is None or anchor is None or at_risk.event is None or anchor.event is None:
        raise NotApplicable("the hazard's at_risk and anchor must be chain states")
    return at_risk, anchor


def churn_hazard(ctx: Context) -> Query:
    plan, d = ctx.plan, ctx.dialect
    hazard = plan.hazard
    if hazard is None:
        raise NotApplicable("the plan declares no hazard section")
    at_risk, anchor = _states(plan, hazard)
    active, cancels = activity(plan, hazard)
    if not active:
        raise NotApplicable("the hazard has no activity events (no churn section, no rule events)")
    a, h = at_risk.index, anchor.index
    when = f"s.t{a}" if a == h else f"coalesce(s.t{h}, s.t{a})"
    span = d.days(hazard.window_days)
    window = f"e.ts > {when} AND e.ts <= {when} + {span}"
    aggs: list[tuple[str, str]] = []
    texts: list[str] = []
    numbers: list[str] = []
    for i, c in enumerate(hazard.covariates.values()):
        cond, t, n = _covariate(c, when, d)
        aggs.append((f"cov_{i}", d.count_if(cond)))
        texts, numbers = texts + list(t), numbers + list(n)
    aggs.append(("hits", d.count_if(f"e.event IN {in_list(active, d)} AND {window}")))
    gone = "s.hits = 0"
    if cancels:
        aggs.append(("exits", d.count_if(f"e.event IN {in_list(cancels, d)} AND {window}")))
        gone = "(s.hits = 0 OR s.exits > 0)"
    last = max(a, h)
    events = (
        (plan.chain[0].event or "",)
        + tuple(c.event for c in hazard.covariates.values())
        + active
        + cancels
    )
    carry = ["person", *dict.fromkeys((f"t{a}", f"t{h}"))]
    ctes = (
        base(ctx, tuple(texts), tuple(numbers))
        + chain(ctx)[: last + 1]
        + [step("fh", f"f{last}", carry, aggs, events, d)]
    )
    observed = f"{when} + {span} <= b.as_of"
    names = [covariate_column(n) for n in hazard.covariates]
    flags = (
        "SELECT\n"
        + "".join(
            f"    CASE WHEN s.cov_{i} > 0 THEN 1 ELSE 0 END AS {name},\n"
            for i, name in enumerate(names)
        )
        + f"    CASE WHEN {observed} THEN 1 ELSE 0 END AS observed,\n"
        f"    CASE WHEN {observed} AND {gone} THEN 1 ELSE 0 END AS churned\n"
        "FROM fh AS s\nCROSS JOIN bounds AS b\n"
        f"WHERE s.t{a} IS NOT NULL"
    )
    keys = ", ".join([*names, "observed", "churned"])
    body = f"SELECT {keys}, count(*) AS persons\n" f"FROM flags\nGROUP BY {keys}\nORDER BY {keys}"
    facts = "; ".join(
        f"{n}: a {c.event}"
        + (f" with {c.property} {c.test} {c.value}" if c.property and c.test else "")
        for n, c in hazard.covariates.items()
    )
    return Query(
        "churn_hazard",
        f"churn-hazard cells: persons who reached {at_risk.id} ({at_risk.name}), by covariate "
        f"({facts or 'none declared'}) at or before their anchor (first {anchor.id}, else "
        f"{at_risk.id}); observed = anchor + {hazard.window_days} days <= as_of; churned = no "
        f"{' or '.join(active)} in the window after the anchor"
        + (f", or a {' or '.join(cancels)} in it." if cancels else "."),
        (*names, "observed", "churned", "persons"),
        (*ctes, ("flags", flags)),
        body,
    )
