"""The churn-hazard cells (PRD §6, §12): who churned after the aha moment, by failure and slowness.

Definitions (also in the README and the query header), over persons who completed a job in the
chain (reached S7):
- failed_job: the person has at least one `processing_failed` at or before their first download
  (S8; their S7 time if they never downloaded).
- slow_job: the person has a `processing_completed` with `processing_time_ms` > 120000 at or
  before that same time.
  Only jobs up to the first download count: persons who stay run more jobs afterwards, so
  counting later failures or slow jobs would tie them to *not* churning (survivorship).
- observed: the person reached S8 (aha, first download) at least 30 days before `as_of`.
- churned: observed, and no `processing_completed` or `return_session` (the S10 rule's events)
  in the 30 days after their S8 time.
`trackplan fit` turns the cells into base / extra_if_failed_job / extra_if_slow_job, and
slow_job_share = persons with a slow job / persons in these rows.
"""

from __future__ import annotations

from compiler.funnel.builder import Context, NotApplicable, Query
from compiler.funnel.dialects import quote
from compiler.funnel.fragments import base, chain, event_states, step

FAILED_EVENT = "processing_failed"
COMPLETED_EVENT = "processing_completed"
TIME_PROPERTY = "processing_time_ms"
SLOW_MS = 120_000
CHURN_DAYS = 30


def _states(ctx: Context) -> tuple[int, int, tuple[str, ...]]:
    """(index of the state marked by COMPLETED_EVENT, index of the aha state, activity events)."""
    for name in (FAILED_EVENT, COMPLETED_EVENT):
        if name not in ctx.plan.events:
            raise NotApplicable(f"the churn hazard needs event {name}, which the plan lacks")
    aha_event = ctx.plan.milestones["aha"].event if "aha" in ctx.plan.milestones else None
    if not event_states(ctx):
        raise NotApplicable("the churn hazard needs the funnel's states")
    by_event = {s.event: s.index for s in event_states(ctx)}
    if COMPLETED_EVENT not in by_event or aha_event not in by_event:
        raise NotApplicable("the churn hazard needs states marked by processing_completed and aha")
    activity = next(
        (s.rule.events for s in ctx.plan.states if s.rule and s.rule.kind == "active_within"),
        (COMPLETED_EVENT,),
    )
    return by_event[COMPLETED_EVENT], by_event[aha_event], activity


def churn_hazard(ctx: Context) -> Query:
    job, aha, activity = _states(ctx)
    d = ctx.dialect
    span = d.days(CHURN_DAYS)
    active = ", ".join(quote(e) for e in activity)
    before = f"e.ts <= coalesce(s.t{aha}, s.t{job})"
    slow = f"e.event = {quote(COMPLETED_EVENT)} AND e.p_{TIME_PROPERTY} > {SLOW_MS}"
    aggs = [
        ("failures", d.count_if(f"e.event = {quote(FAILED_EVENT)} AND {before}")),
        ("slow_jobs", d.count_if(f"{slow} AND {before}")),
        (
            "returns",
            d.count_if(f"e.event IN ({active}) AND e.ts > s.t{aha} AND e.ts <= s.t{aha} + {span}"),
        ),
    ]
    first = event_states(ctx)[0].event or ""
    events = (first, FAILED_EVENT, COMPLETED_EVENT, *activity)
    last = event_states(ctx)[-1].index
    ctes = (
        base(ctx, numbers=(TIME_PROPERTY,))
        + chain(ctx)
        + [step("fh", f"f{last}", ["person", f"t{job}", f"t{aha}"], aggs, events)]
    )
    observed = f"s.t{aha} IS NOT NULL AND s.t{aha} <= b.as_of - {span}"
    flags = (
        "SELECT\n"
        "    CASE WHEN s.failures > 0 THEN 1 ELSE 0 END AS failed_job,\n"
        "    CASE WHEN s.slow_jobs > 0 THEN 1 ELSE 0 END AS slow_job,\n"
        f"    CASE WHEN {observed} THEN 1 ELSE 0 END AS observed,\n"
        f"    CASE WHEN {observed} AND s.returns = 0 THEN 1 ELSE 0 END AS churned\n"
        "FROM fh AS s\nCROSS JOIN bounds AS b\n"
        f"WHERE s.t{job} IS NOT NULL"
    )
    body = (
        "SELECT failed_job, slow_job, observed, churned, count(*) AS persons\n"
        "FROM flags\nGROUP BY failed_job, slow_job, observed, churned\n"
        "ORDER BY failed_job, slow_job, observed, churned"
    )
    return Query(
        "churn_hazard",
        f"churn-hazard cells: persons who completed a job, by failed job (a {FAILED_EVENT}) and "
        f"slow job ({TIME_PROPERTY} > {SLOW_MS}) up to their first download, observed (aha at "
        f"least {CHURN_DAYS} days "
        f"before as_of) and churned (no {', '.join(activity)} within {CHURN_DAYS} days after aha).",
        ("failed_job", "slow_job", "observed", "churned", "persons"),
        (*ctes, ("flags", flags)),
        body,
    )
