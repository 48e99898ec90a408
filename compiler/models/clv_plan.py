"""The plan's revenue events as CLV transactions: one DuckDB query over the exports' `events`.

Persons are keyed exactly as `trackplan rates` and the audit key them: the shared `ev` CTE of
compiler/funnel/fragments.py (PostHog's person_id when set, else the person stitched from
`$identify` / `$create_alias`). A transaction is one event of the plan's `revenue.events` with
its value property as the amount, in the currency its currency property names. Refund events are
not transactions: they are counted and reported, never netted against a day's spend (spend per
purchase must be positive for the Gamma-Gamma model).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from compiler.funnel import dialects
from compiler.funnel.builder import Context, NotApplicable, Query, render, union_all
from compiler.funnel.dialects import quote
from compiler.funnel.fragments import base, number_column, text_column
from compiler.models.clv_data import TransactionsError, one_row
from compiler.plan.model import Plan
from compiler.plan.model_analytics import RevenueSource


@dataclass(frozen=True)
class PlanTransactions:
    transactions: int  # rows put into `tx`
    currency: str  # '' when the plan's revenue events declare no currency property
    events: tuple[str, ...]  # the revenue events read
    missing_values: int  # revenue events without a numeric value, left out
    negative_values: int  # revenue events with a negative value, left out
    refund_events: int  # refund events seen (not netted)
    other_currencies: dict[str, int]  # transactions in currencies not chosen


def _select(source: RevenueSource, refund: int) -> str:
    currency = f"coalesce({text_column(source.currency)}, '')" if source.currency else "''"
    return (
        f"SELECT person, ts, {currency} AS currency, {number_column(source.value)} AS amount, "
        f"{refund} AS refund\nFROM ev\nWHERE event = {quote(source.event)} AND person IS NOT NULL"
    )


def transactions_query(plan: Plan) -> Query:
    """The plan's revenue and refund events with person, time, currency and amount (DuckDB)."""
    if plan.revenue is None:
        raise NotApplicable("the plan declares no revenue section")
    sources = [(s, 0) for s in plan.revenue.events] + [(s, 1) for s in plan.revenue.refunds]
    if not plan.revenue.events:
        raise NotApplicable("the plan's revenue section lists no events")
    ctx = Context(plan, dialects.get("duckdb"))
    texts = tuple(s.currency for s, _ in sources if s.currency)
    numbers = tuple(s.value for s, _ in sources)
    ctes = base(ctx, texts, numbers) + [("money", union_all([_select(s, r) for s, r in sources]))]
    return Query(
        "clv_transactions",
        "revenue events per person (person keyed as in rates) for BG/NBD and Gamma-Gamma",
        ("person", "ts", "currency", "amount", "refund"),
        tuple(ctes),
        "SELECT person, ts, currency, amount, refund FROM money",
    )


def load_plan_transactions(
    con: duckdb.DuckDBPyConnection, plan: Plan, label: str, currency: str | None
) -> PlanTransactions:
    """Fill `tx` from the `events` view with the plan's revenue events in one currency.

    `currency` None: the only currency in the data; several -> TransactionsError listing them."""
    try:
        query = transactions_query(plan)
    except NotApplicable as exc:
        raise TransactionsError(f"{label}: cannot compute CLV: {exc}") from None
    sql = render(query, dialects.get("duckdb"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE plan_money AS {sql}")
    counts = dict(
        con.execute(
            "SELECT currency, count(*) FROM plan_money WHERE refund = 0 AND amount >= 0 "
            "GROUP BY currency"
        ).fetchall()
    )
    if not counts:
        raise TransactionsError(f"{label}: no revenue events with a value in the export(s)")
    chosen = _choose(label, counts, currency)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tx AS SELECT CAST(person AS VARCHAR) AS customer, "
        "CAST(ts AS DATE) AS day, amount FROM plan_money "
        "WHERE refund = 0 AND amount >= 0 AND currency = $c",
        {"c": chosen},
    )
    stats = one_row(
        con,
        "SELECT count(*) FILTER (WHERE refund = 0 AND amount IS NULL), "
        "count(*) FILTER (WHERE refund = 0 AND amount < 0), count(*) FILTER (WHERE refund = 1) "
        "FROM plan_money",
    )
    assert stats is not None
    assert plan.revenue is not None
    return PlanTransactions(
        transactions=int(counts[chosen]),
        currency=str(chosen),
        events=tuple(s.event for s in plan.revenue.events),
        missing_values=int(stats[0]),
        negative_values=int(stats[1]),
        refund_events=int(stats[2]),
        other_currencies={str(k): int(v) for k, v in counts.items() if k != chosen},
    )


def _choose(label: str, counts: dict[str, int], currency: str | None) -> str:
    if currency is not None:
        if currency not in counts:
            known = ", ".join(sorted(c or "(none)" for c in counts))
            raise TransactionsError(
                f"{label}: no revenue events in currency {currency!r} (found: {known})"
            )
        return currency
    if len(counts) > 1:
        listed = ", ".join(f"{c or '(none)'} ({n})" for c, n in sorted(counts.items()))
        raise TransactionsError(
            f"{label}: revenue in several currencies ({listed}); money is never summed across "
            "currencies, so choose one with --currency"
        )
    return next(iter(counts))
