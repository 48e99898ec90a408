"""Render every funnel query for a dialect: the registry of queries and one entry point."""

from __future__ import annotations

from collections.abc import Callable

from compiler.funnel import (
    builder,
    churn_queries,
    dialects,
    hazard_queries,
    queries,
    revenue_queries,
)
from compiler.funnel.builder import Context, NotApplicable, Query
from compiler.plan.model import Plan

QUERIES: dict[str, Callable[[Context], Query]] = {
    build.__name__: build
    for build in (
        queries.transition_rates,
        queries.milestones,
        queries.objective_rate,
        churn_queries.subscription_churn_monthly,
        churn_queries.one_off_churn,
        hazard_queries.churn_hazard,
        revenue_queries.revenue,
    )
}


def query_sql(plan: Plan, name: str, dialect: str, window_days: int | None = None) -> str:
    """One query's SQL in one dialect, for a conversion window (None: the whole range).

    NotApplicable (one line saying why) when the plan lacks what the query measures."""
    d = dialects.get(dialect)
    if name not in QUERIES:
        raise KeyError(f"unknown query '{name}'. Known: {', '.join(QUERIES)}")
    query = QUERIES[name](Context(plan, d, window_days))
    return builder.render(query, d, window_days)


def not_applicable(plan: Plan) -> dict[str, str]:
    """{query name: why it is not rendered} for the queries the plan cannot support."""
    out = {}
    for name, build in QUERIES.items():
        try:
            build(Context(plan, dialects.get("duckdb")))
        except NotApplicable as exc:
            out[name] = str(exc)
    return out


def render_dialect(plan: Plan, dialect: str) -> dict[str, str]:
    """{file name: SQL} for every query the plan supports in one dialect (whole-range window).

    A query whose states, milestones or events the plan lacks is left out (NotApplicable)."""
    files = {}
    for name in QUERIES:
        try:
            files[f"{name}.sql"] = query_sql(plan, name, dialect)
        except NotApplicable:
            continue
    return files
