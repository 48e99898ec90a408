"""The four PRD §13 queries, corrected.

The PRD's versions count `distinct_id`s (one person is several before and after login), divide
counts of unrelated populations (its purchase rate counts buyers who never downloaded), and use
`interval '30 days'`, which HogQL does not accept. Here every count is of persons, every
numerator is restricted to its denominator's persons (the later event at or after their first
earlier one), and intervals are written `INTERVAL 30 DAY`.
"""

from __future__ import annotations

from collections.abc import Callable

from compiler.funnel.builder import Context, NotApplicable, Query
from compiler.funnel.dialects import quote
from compiler.funnel.fragments import base

LOOKBACK_DAYS = 30


def _state_event(ctx: Context, state_id: str) -> str:
    state = ctx.plan.state(state_id)
    if state is None or state.event is None:
        raise NotApplicable(f"the PRD queries need state {state_id} marked by an event")
    return state.event


def _milestone_event(ctx: Context, name: str) -> str:
    if name not in ctx.plan.milestones:
        raise NotApplicable(f"the PRD queries need milestone '{name}'")
    return ctx.plan.milestones[name].event


def _pair_rate(ctx: Context, name: str, measures: str, earlier: str, later: str) -> Query:
    """Persons who fired `later` at or after their first `earlier`, over persons who fired
    `earlier`, both within the last LOOKBACK_DAYS days before as_of."""
    if earlier not in ctx.plan.events or later not in ctx.plan.events:
        raise NotApplicable(f"{name}: the plan lacks {earlier} or {later}")
    span = ctx.dialect.days(LOOKBACK_DAYS)
    ctes = base(ctx) + [
        (
            "earlier",
            "SELECT ev.person AS person, min(ev.ts) AS first_at\nFROM ev\nCROSS JOIN bounds AS b\n"
            f"WHERE ev.event = {quote(earlier)} AND ev.ts > b.as_of - {span}\nGROUP BY ev.person",
        ),
        (
            "later",
            "SELECT a.person AS person\nFROM earlier AS a\nINNER JOIN ev AS e ON e.person = a.person\n"
            f"WHERE e.event = {quote(later)} AND e.ts >= a.first_at\nGROUP BY a.person",
        ),
    ]
    body = (
        "SELECT n.persons AS numerator, d.persons AS denominator,\n"
        f"    n.persons / {ctx.dialect.nullif('d.persons', '0')} AS rate\n"
        "FROM (SELECT count(*) AS persons FROM later) AS n\n"
        "CROSS JOIN (SELECT count(*) AS persons FROM earlier) AS d"
    )
    return Query(name, measures, ("numerator", "denominator", "rate"), tuple(ctes), body)


def prd_activation_rate(ctx: Context) -> Query:
    login = _state_event(ctx, "S4")
    return _pair_rate(
        ctx,
        "prd_activation_rate",
        f"PRD §13 activation rate, corrected: persons with {login} at or after their first "
        f"signup_start, over persons with signup_start in the last {LOOKBACK_DAYS} days.",
        "signup_start",
        login,
    )


def prd_aha_rate(ctx: Context) -> Query:
    activated, aha = _milestone_event(ctx, "activated"), _milestone_event(ctx, "aha")
    return _pair_rate(
        ctx,
        "prd_aha_rate",
        f"PRD §13 aha rate, corrected: persons with {aha} at or after their first {activated}, "
        f"over persons with {activated} in the last {LOOKBACK_DAYS} days.",
        activated,
        aha,
    )


def prd_purchase_rate(ctx: Context) -> Query:
    aha, paid = _milestone_event(ctx, "aha"), _milestone_event(ctx, "monetized")
    return _pair_rate(
        ctx,
        "prd_purchase_rate",
        f"PRD §13 purchase rate, corrected: persons with {paid} at or after their first {aha} "
        f"(buyers who never downloaded are not counted), over persons with {aha} in the last "
        f"{LOOKBACK_DAYS} days.",
        aha,
        paid,
    )


def prd_churn_30d(ctx: Context) -> Query:
    job = _milestone_event(ctx, "first_value")
    span = ctx.dialect.days(LOOKBACK_DAYS)
    ctes = base(ctx) + [
        (
            "jobs",
            "SELECT person, min(ts) AS first_job_at, max(ts) AS last_job_at\nFROM ev\n"
            f"WHERE event = {quote(job)}\nGROUP BY person",
        )
    ]
    count_if = ctx.dialect.count_if
    churned = count_if(f"j.last_job_at < b.as_of - {span}")
    body = (
        f"SELECT {churned} AS numerator, count(*) AS denominator,\n"
        f"    {churned} / {ctx.dialect.nullif('count(*)', '0')} AS rate\n"
        "FROM jobs AS j\nCROSS JOIN bounds AS b\n"
        f"WHERE j.first_job_at < b.as_of - {span}"
    )
    return Query(
        "prd_churn_30d",
        f"PRD §13 30-day churn, corrected: of persons whose first {job} is more than "
        f"{LOOKBACK_DAYS} days before as_of, those with no {job} in the last {LOOKBACK_DAYS} days.",
        ("numerator", "denominator", "rate"),
        tuple(ctes),
        body,
    )


PRD_QUERIES: tuple[Callable[[Context], Query], ...] = (
    prd_activation_rate,
    prd_aha_rate,
    prd_purchase_rate,
    prd_churn_30d,
)
