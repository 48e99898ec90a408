"""Churn (PRD §6): monthly subscription churn and behavioural credit-pack churn at 30/60/90 days.

Definitions, also written into each query's header:
- Subscription churn for month M = subscriptions canceled during M / subscriptions active at
  the start of M (started before M, not canceled before M). The unit is `subscription_id`, which
  `subscription_started` and `subscription_canceled` both carry; a cancellation whose start is
  not in the data is not counted (its subscription was never seen active).
- Credit-pack churn at X days: among persons whose first credit-pack purchase (a
  `purchase_completed` with `billing_period` = 'one-time', or a `topup_purchased`) is at least X
  days before `as_of`, the share whose last activity (the S10 rule's events, or a pack purchase)
  is at least X days before `as_of`.
"""

from __future__ import annotations

from compiler.funnel.builder import Context, NotApplicable, Query, union_all
from compiler.funnel.dialects import quote
from compiler.funnel.fragments import base

SUBSCRIPTION_STARTED = "subscription_started"
SUBSCRIPTION_CANCELED = "subscription_canceled"
PACK_PURCHASE = "purchase_completed"  # with billing_period = PACK_PERIOD
PACK_PERIOD = "one-time"
PACK_TOPUP = "topup_purchased"
CHURN_DAYS = (30, 60, 90)


def _require(ctx: Context, *events: str) -> None:
    missing = [e for e in events if e not in ctx.plan.events]
    if missing:
        raise NotApplicable(f"churn queries need events the plan lacks: {', '.join(missing)}")


def _activity_events(ctx: Context) -> tuple[str, ...]:
    """What counts as coming back: the events of the plan's active_within rule (S10)."""
    for state in ctx.plan.states:
        if state.rule is not None and state.rule.kind == "active_within":
            return state.rule.events
    raise NotApplicable("credit-pack churn needs a state with an active_within rule (S10)")


def subscription_churn_monthly(ctx: Context) -> Query:
    _require(ctx, SUBSCRIPTION_STARTED, SUBSCRIPTION_CANCELED)
    d = ctx.dialect
    # One pass, no LEFT JOIN: HogQL may run without join_use_nulls, where a missing
    # cancellation would read as 1970-01-01 instead of NULL.
    both = f"({quote(SUBSCRIPTION_STARTED)}, {quote(SUBSCRIPTION_CANCELED)})"
    ctes = base(ctx, ("subscription_id",)) + [
        (
            "subscriptions",
            "SELECT\n"
            "    p_subscription_id AS subscription_id,\n"
            f"    {d.min_if('ts', f'event = {quote(SUBSCRIPTION_STARTED)}')} AS started_at,\n"
            f"    {d.min_if('ts', f'event = {quote(SUBSCRIPTION_CANCELED)}')} AS canceled_at\n"
            f"FROM ev\nWHERE event IN {both} AND p_subscription_id IS NOT NULL\n"
            "GROUP BY p_subscription_id",
        ),
        ("months", f"SELECT DISTINCT {d.month_start('ts')} AS month_start\nFROM ev"),
    ]
    active = (
        "s.started_at < m.month_start AND (s.canceled_at IS NULL OR s.canceled_at >= m.month_start)"
    )
    canceled = f"s.canceled_at < m.month_start + {d.months(1)}"
    body = (
        "SELECT\n"
        f"    {d.month_label('m.month_start')} AS month,\n"
        f"    {d.count_if(f'{active} AND {canceled}')} AS numerator,\n"
        f"    {d.count_if(active)} AS denominator,\n"
        f"    {d.count_if(f'{active} AND {canceled}')} / {d.nullif(d.count_if(active), '0')} AS rate\n"
        "FROM months AS m\nCROSS JOIN subscriptions AS s\n"
        "GROUP BY m.month_start\nORDER BY m.month_start"
    )
    return Query(
        "subscription_churn_monthly",
        "monthly subscription churn (PRD §6): subscriptions canceled in the month over "
        "subscriptions active at its start (started before it, not canceled before it).",
        ("month", "numerator", "denominator", "rate"),
        tuple(ctes),
        body,
    )


def credit_pack_churn(ctx: Context) -> Query:
    _require(ctx, PACK_PURCHASE, PACK_TOPUP)
    pack_events = (PACK_PURCHASE, PACK_TOPUP)
    is_pack = (
        f"(event = {quote(PACK_PURCHASE)} AND p_billing_period = {quote(PACK_PERIOD)}) "
        f"OR event = {quote(PACK_TOPUP)}"
    )
    activity = ", ".join(quote(e) for e in (*_activity_events(ctx), *pack_events))
    d = ctx.dialect
    ctes = base(ctx, ("billing_period",)) + [
        (
            "packs",
            f"SELECT person, min(ts) AS first_pack_at\nFROM ev\nWHERE {is_pack}\nGROUP BY person",
        ),
        (
            "activity",
            "SELECT k.person AS person, k.first_pack_at AS first_pack_at, max(e.ts) AS last_at\n"
            "FROM packs AS k\nINNER JOIN ev AS e ON e.person = k.person\n"
            f"WHERE e.event IN ({activity}) AND e.ts >= k.first_pack_at\n"
            "GROUP BY k.person, k.first_pack_at",
        ),
    ]
    selects = []
    for days in CHURN_DAYS:
        seen = f"a.first_pack_at <= b.as_of - {d.days(days)}"
        gone = f"{seen} AND a.last_at <= b.as_of - {d.days(days)}"
        selects.append(
            f"SELECT {days} AS days, {d.count_if(gone)} AS numerator, {d.count_if(seen)} AS denominator\n"
            "FROM activity AS a\nCROSS JOIN bounds AS b"
        )
    body = (
        f"SELECT days, numerator, denominator, numerator / {d.nullif('denominator', '0')} AS rate\n"
        f"FROM (\n{union_all(selects)}\n) AS windows\nORDER BY days"
    )
    return Query(
        "credit_pack_churn",
        "behavioural credit-pack churn at 30, 60 and 90 days (PRD §6): of persons whose first "
        "credit pack is at least X days old, those with no return_session, processing_completed "
        "or pack purchase in the last X days.",
        ("days", "numerator", "denominator", "rate"),
        tuple(ctes),
        body,
    )
