"""Revenue from the plan's `revenue` section: gross, refunds and net per currency.

Definitions (also in the query header):
- gross = the sum of the revenue events' value property; refunds = the sum of the refund events'
  value property; net = gross - refunds. Money is never summed across currencies: one row per
  value of the currency property ('' when a source declares no currency property or the event
  lacks it). An event without a numeric value adds nothing and is counted in missing_values.
- payers = persons with at least one revenue event in that currency (refunds alone do not
  make a payer); entrants = persons who reached the first chain state (any currency; 0 when the
  plan's funnel has no chain). Per payer and per entrant are net / payers and net / entrants.
"""

from __future__ import annotations

from compiler.funnel.builder import Context, NotApplicable, Query, union_all
from compiler.funnel.dialects import Dialect
from compiler.funnel.fragments import base, number_column, text_column
from compiler.plan.model_analytics import RevenueSource


def _select(source: RevenueSource, refund: int, d: Dialect) -> str:
    currency = f"coalesce({text_column(source.currency)}, '')" if source.currency else "''"
    return (
        f"SELECT person, {currency} AS currency, {number_column(source.value)} AS amount, "
        f"{refund} AS refund\nFROM ev\nWHERE event = {d.literal(source.event)} AND person IS NOT NULL"
    )


def revenue(ctx: Context) -> Query:
    plan, d = ctx.plan, ctx.dialect
    if plan.revenue is None:
        raise NotApplicable("the plan declares no revenue section")
    sources = [(s, 0) for s in plan.revenue.events] + [(s, 1) for s in plan.revenue.refunds]
    if not sources:
        raise NotApplicable("the plan's revenue section lists no events")
    texts = tuple(s.currency for s, _ in sources if s.currency)
    numbers = tuple(s.value for s, _ in sources)
    first = plan.chain[0].event if plan.chain else None
    entrants = (
        f"SELECT count(DISTINCT person) AS n\nFROM ev\n"
        f"WHERE event = {d.literal(first)} AND person IS NOT NULL"
        if first
        else "SELECT 0 AS n"
    )
    ctes = base(ctx, texts, numbers) + [
        ("money", union_all([_select(s, r, d) for s, r in sources])),
        (
            "per_person",
            "SELECT\n    currency,\n    person,\n"
            "    sum(CASE WHEN refund = 0 THEN amount ELSE 0 END) AS gross,\n"
            "    sum(CASE WHEN refund = 1 THEN amount ELSE 0 END) AS refunds,\n"
            f"    {d.count_if('refund = 0')} AS events,\n"
            f"    {d.count_if('refund = 1')} AS refund_events,\n"
            f"    {d.count_if('amount IS NULL')} AS missing_values\n"
            "FROM money\nGROUP BY currency, person",
        ),
        ("entrants", entrants),
    ]
    body = (
        "SELECT\n    p.currency AS currency,\n"
        "    coalesce(sum(p.gross), 0) AS gross,\n"
        "    coalesce(sum(p.refunds), 0) AS refunds,\n"
        "    coalesce(sum(p.gross), 0) - coalesce(sum(p.refunds), 0) AS net,\n"
        "    sum(p.events) AS events,\n"
        "    sum(p.refund_events) AS refund_events,\n"
        f"    {d.count_if('p.events > 0')} AS payers,\n"
        "    min(n.n) AS entrants,\n"
        "    sum(p.missing_values) AS missing_values\n"
        "FROM per_person AS p\nCROSS JOIN entrants AS n\n"
        "GROUP BY p.currency\nORDER BY p.currency"
    )
    events = ", ".join(s.event for s in plan.revenue.events)
    refunds = ", ".join(s.event for s in plan.revenue.refunds) or "none declared"
    return Query(
        "revenue",
        f"revenue per currency (never summed across currencies): gross = values of {events}; "
        f"refunds = values of {refunds}; net = gross - refunds; payers = persons with a revenue "
        "event; entrants = persons who reached the first chain state.",
        (
            "currency",
            "gross",
            "refunds",
            "net",
            "events",
            "refund_events",
            "payers",
            "entrants",
            "missing_values",
        ),
        tuple(ctes),
        body,
    )
