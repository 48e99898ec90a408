"""The few answers the feature queries need beyond the funnel's dialect layer
(compiler/funnel/dialects.py): a value at the first or last matching row, a distinct count, and
seconds between two times. One place, keyed by the dialect's family, so a feature query is still
written once; HogQL speaks ClickHouse here.
"""

from __future__ import annotations

from compiler.funnel.dialects import ClickHouse, Dialect


def _clickhouse(d: Dialect) -> bool:
    return isinstance(d, ClickHouse)  # HogQL is a ClickHouse subclass


def arg_at(d: Dialect, value: str, ts: str, condition: str, last: bool) -> str:
    """`value` on the earliest (or, with `last`, the latest) row meeting `condition`; NULL when
    none does. The condition must exclude rows where `value` is NULL."""
    if _clickhouse(d):
        func = "argMaxIf" if last else "argMinIf"
        # argMin answers the type's default ('' or 0) when no row matches: NULL instead.
        return f"if({d.count_if(condition)} > 0, {func}({value}, {ts}, {condition}), NULL)"
    func = "arg_max" if last else "arg_min"
    return f"{func}({value}, {ts}) FILTER (WHERE {condition})"


def distinct_if(d: Dialect, value: str, condition: str) -> str:
    """How many distinct non-NULL `value`s the rows meeting `condition` hold."""
    if _clickhouse(d):
        return f"uniqExactIf({value}, {condition})"
    return f"count(DISTINCT {value}) FILTER (WHERE {condition})"


def days_between(start: str, end: str) -> str:
    """Days (fractional) from `start` to `end`; every dialect spells dateDiff the same way
    (DuckDB's names are case-insensitive)."""
    return f"dateDiff('second', {start}, {end}) / 86400.0"


def sum_if(value: str, condition: str) -> str:
    """The sum of `value` over rows meeting `condition`, 0 when none do."""
    return f"coalesce(sum(CASE WHEN {condition} THEN {value} END), 0)"


def avg_if(value: str, condition: str) -> str:
    """The mean of the non-NULL `value`s over rows meeting `condition`, NULL when none."""
    return f"avg(CASE WHEN {condition} THEN {value} END)"
