"""Churn (PRD §6) as the plan's `churn` section defines it: monthly subscription churn and
one-off purchase churn, each person measured from their own anchor.

Definitions, also written into each query's header:
- Subscription churn for month M = subscriptions canceled during M / subscriptions active at the
  start of M (started before M, not canceled before M). The unit is the subscriptions' key
  property, which the started and canceled events both carry; a cancellation whose start is not
  in the data is not counted (its subscription was never seen active). `complete` = 1 when M
  ends on or before as_of; a month still open at as_of is partial (its count so far is not a
  monthly rate).
- One-off churn at X days: p = a person's first one-off purchase. Among persons observed for
  the whole window (p + X days <= as_of), the share with no activity event and no further
  one-off purchase in (p, p + X days].
"""

from __future__ import annotations

from compiler.funnel.builder import Context, NotApplicable, Query, union_all
from compiler.funnel.dialects import Dialect
from compiler.funnel.fragments import base, in_list, text_column, value_test
from compiler.plan.model_analytics import Churn, PurchaseClass


def _churn(ctx: Context) -> Churn:
    if ctx.plan.churn is None:
        raise NotApplicable("the plan declares no churn section")
    return ctx.plan.churn


def purchase_condition(
    prefix: str, classes: tuple[PurchaseClass, ...], d: Dialect
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(condition on `<prefix>` ev columns, text props, numeric props): the event is one of the
    purchase classes (and its property takes one of the class's values)."""
    parts: list[str] = []
    texts: list[str] = []
    numbers: list[str] = []
    for c in classes:
        cond = f"{prefix}event = {d.literal(c.event)}"
        if c.property is not None and c.values:
            test, t, n = value_test(prefix, c.property, "equals", c.values, d)
            cond, texts, numbers = f"({cond} AND {test})", texts + list(t), numbers + list(n)
        parts.append(cond)
    return "(" + " OR ".join(parts) + ")", tuple(texts), tuple(numbers)


def subscription_churn_monthly(ctx: Context) -> Query:
    subs = _churn(ctx).subscriptions
    if subs is None:
        raise NotApplicable("the plan's churn section declares no subscriptions")
    d = ctx.dialect
    key = text_column(subs.key)
    # One pass, no LEFT JOIN: HogQL may run without join_use_nulls, where a missing
    # cancellation would read as 1970-01-01 instead of NULL.
    ctes = base(ctx, (subs.key,)) + [
        (
            "subscriptions",
            "SELECT\n"
            f"    {key} AS subscription,\n"
            f"    {d.min_if('ts', f'event = {d.literal(subs.started)}')} AS started_at,\n"
            f"    {d.min_if('ts', f'event = {d.literal(subs.canceled)}')} AS canceled_at\n"
            f"FROM ev\nWHERE event IN {in_list((subs.started, subs.canceled), d)} "
            f"AND {key} IS NOT NULL\nGROUP BY {key}",
        ),
        (
            "months",
            f"SELECT DISTINCT {d.month_start('ts')} AS month_start\nFROM ev",
        ),
        (
            "months_seen",
            "SELECT\n    m.month_start AS month_start,\n"
            f"    CASE WHEN m.month_start + {d.months(1)} <= b.as_of THEN 1 ELSE 0 END AS complete\n"
            "FROM months AS m\nCROSS JOIN bounds AS b",
        ),
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
        f"    {d.count_if(f'{active} AND {canceled}')} / {d.nullif(d.count_if(active), '0')} AS rate,\n"
        "    m.complete AS complete\n"
        "FROM months_seen AS m\nCROSS JOIN subscriptions AS s\n"
        "GROUP BY m.month_start, m.complete\nORDER BY m.month_start"
    )
    return Query(
        "subscription_churn_monthly",
        f"monthly subscription churn (PRD §6): subscriptions ({subs.key}) with a {subs.canceled} "
        f"in the month over those active at its start (a {subs.started} before it, not canceled "
        "before it); complete = 1 when the month ended on or before as_of, else it is partial.",
        ("month", "numerator", "denominator", "rate", "complete"),
        tuple(ctes),
        body,
    )


def one_off_churn(ctx: Context) -> Query:
    churn = _churn(ctx)
    if not churn.one_off_purchases:
        raise NotApplicable("the plan's churn section declares no one-off purchases")
    d = ctx.dialect
    first, texts, numbers = purchase_condition("", churn.one_off_purchases, d)
    again, _, _ = purchase_condition("e.", churn.one_off_purchases, d)
    active = (
        f"(e.event IN {in_list(churn.activity_events, d)} OR {again})"
        if churn.activity_events
        else again
    )
    windows = sorted(set(churn.windows))
    counts = ",\n    ".join(
        d.count_if(f"{active} AND e.ts > k.first_at AND e.ts <= k.first_at + {d.days(x)}")
        + f" AS hits_{x}"
        for x in windows
    )
    events = churn.activity_events + tuple(c.event for c in churn.one_off_purchases)
    ctes = base(ctx, texts, numbers) + [
        (
            "firsts",
            f"SELECT person, min(ts) AS first_at\nFROM ev\nWHERE {first} AND person IS NOT NULL\n"
            "GROUP BY person",
        ),
        (
            "activity",
            f"SELECT\n    k.person AS person,\n    k.first_at AS first_at,\n    {counts}\n"
            "FROM firsts AS k\nINNER JOIN ev AS e ON e.person = k.person\n"
            f"WHERE e.event IN {in_list(events, d)}\nGROUP BY k.person, k.first_at",
        ),
    ]
    selects = []
    for x in windows:
        seen = f"a.first_at + {d.days(x)} <= b.as_of"
        selects.append(
            f"SELECT {x} AS days, {d.count_if(f'{seen} AND a.hits_{x} = 0')} AS numerator, "
            f"{d.count_if(seen)} AS denominator\nFROM activity AS a\nCROSS JOIN bounds AS b"
        )
    body = (
        f"SELECT days, numerator, denominator, numerator / {d.nullif('denominator', '0')} AS rate\n"
        f"FROM (\n{union_all(selects)}\n) AS windows\nORDER BY days"
    )
    what = " or ".join(churn.activity_events) or "activity"
    return Query(
        "one_off_churn",
        f"one-off purchase churn at {', '.join(map(str, windows))} days (PRD §6), per person: of "
        "persons whose first one-off purchase p has p + X days <= as_of, those with no "
        f"{what} and no further one-off purchase in (p, p + X days].",
        ("days", "numerator", "denominator", "rate"),
        tuple(ctes),
        body,
    )
