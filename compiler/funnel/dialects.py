"""The one registry of SQL dialects the funnel queries, the feature queries and the audit's
warehouse SQL render to.

A dialect answers the few questions where HogQL, ClickHouse and DuckDB differ (`Dialect` in
`dialect_base.py`): how to read a property, how to count conditionally, what "now" is, how to
bucket months, whether persons must be stitched from `$identify`/`$create_alias` (raw exports)
or come resolved (`person_id` in PostHog), and the array, map and JSON constructs of the
audit's warehouse form. Everything else in a query is plain SQL shared by all three. Adding a
dialect is a subclass here and one entry in `DIALECTS`.
"""

from __future__ import annotations

from compiler.diagnostics import did_you_mean
from compiler.funnel.dialect_base import Dialect, json_path, quote, quote_ident
from compiler.funnel.dialect_clickhouse import ClickHouse, HogQL
from compiler.funnel.dialect_duckdb import DuckDB

__all__ = [
    "DIALECTS",
    "ClickHouse",
    "Dialect",
    "DuckDB",
    "HogQL",
    "UnknownDialect",
    "get",
    "json_path",
    "quote",
    "quote_ident",
]

DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        HogQL(
            "hogql",
            "PostHog's SQL (SQL insights, the query API): persons are PostHog's person_id",
            stitches_identity=False,
            as_of="now()",
        ),
        ClickHouse(
            "clickhouse",
            "Raw ClickHouse over an exported events table; properties is a JSON string",
            stitches_identity=True,
            as_of="max(timestamp)",
            settings="SETTINGS join_use_nulls = 1",
        ),
        DuckDB(
            "duckdb",
            "DuckDB over an exported events table; properties is a JSON string",
            stitches_identity=True,
            as_of="max(timezone('UTC', timestamp))",
            cte_keyword="AS MATERIALIZED",
        ),
    )
}


class UnknownDialect(LookupError):
    pass


def get(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        hint = did_you_mean(name, DIALECTS)
        raise UnknownDialect(
            f"unknown SQL dialect '{name}'.{hint} Known: {', '.join(DIALECTS)}"
        ) from None
