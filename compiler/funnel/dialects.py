"""The one registry of SQL dialects the funnel queries render to.

A dialect answers the few questions where HogQL, ClickHouse and DuckDB differ: how to read a
property, how to count conditionally, what "now" is, how to bucket months, and whether persons
must be stitched from `$identify`/`$create_alias` (raw exports) or come resolved (`person_id`
in PostHog). Everything else in a query is plain SQL shared by all three.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.diagnostics import did_you_mean


def quote(value: str) -> str:
    """A standard SQL (DuckDB) string literal: quotes doubled, backslashes plain characters.
    SQL for ClickHouse or HogQL takes its literals from `Dialect.literal`."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A standard SQL (DuckDB) quoted identifier: double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Dialect:
    name: str
    description: str
    # True: persons are stitched from $identify/$create_alias when person_id is null or empty.
    stitches_identity: bool
    # The "as of" moment that churn and retention look back from.
    as_of: str
    cte_keyword: str = "AS"
    settings: str = ""

    def literal(self, value: str) -> str:
        """`value` as a string literal of this dialect (plan names and values can hold quotes
        and backslashes)."""
        return quote(value)

    def prop(self, key: str, column: str = "properties") -> str:
        """A property of `properties` as text (NULL when missing)."""
        raise NotImplementedError

    def prop_text(self, key: str, column: str = "properties") -> str:
        """Any scalar property as text: strings as is, numbers and booleans as JSON writes them
        ('12', 'true'); NULL when missing, null or empty."""
        return self.prop(key, column)

    def prop_number(self, key: str, column: str = "properties") -> str:
        """A numeric property as a float (NULL when missing or not a number)."""
        raise NotImplementedError

    def count_if(self, condition: str) -> str:
        raise NotImplementedError

    def min_if(self, expr: str, condition: str) -> str:
        """The least `expr` over rows meeting `condition`; NULL when none do."""
        raise NotImplementedError

    def max_if(self, expr: str, condition: str) -> str:
        raise NotImplementedError

    def month_start(self, ts: str) -> str:
        raise NotImplementedError

    def month_label(self, ts: str) -> str:
        raise NotImplementedError

    def timestamp(self, column: str) -> str:
        """The event time as the queries compare it (UTC)."""
        return column

    def nullif(self, expr: str, value: str) -> str:
        return f"nullIf({expr}, {value})"

    def days(self, n: int) -> str:
        return f"INTERVAL {int(n)} DAY"

    def months(self, n: int) -> str:
        return f"INTERVAL {int(n)} MONTH"


@dataclass(frozen=True)
class DuckDB(Dialect):
    def prop(self, key: str, column: str = "properties") -> str:
        return f"nullif(json_extract_string({column}, {self.literal('$.' + _json_key(key))}), '')"

    def prop_number(self, key: str, column: str = "properties") -> str:
        return f"TRY_CAST({self.prop(key, column)} AS DOUBLE)"

    def count_if(self, condition: str) -> str:
        return f"count(*) FILTER (WHERE {condition})"

    def min_if(self, expr: str, condition: str) -> str:
        return f"min({expr}) FILTER (WHERE {condition})"

    def max_if(self, expr: str, condition: str) -> str:
        return f"max({expr}) FILTER (WHERE {condition})"

    def month_start(self, ts: str) -> str:
        return f"date_trunc('month', {ts})"

    def month_label(self, ts: str) -> str:
        return f"strftime({ts}, '%Y-%m')"

    def timestamp(self, column: str) -> str:
        # TIMESTAMPTZ -> naive UTC, so month buckets do not depend on the session time zone.
        return f"timezone('UTC', {column})"

    def nullif(self, expr: str, value: str) -> str:
        return f"nullif({expr}, {value})"


@dataclass(frozen=True)
class ClickHouse(Dialect):
    def literal(self, value: str) -> str:
        # A backslash starts an escape in ClickHouse's (and HogQL's) string literals.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def prop(self, key: str, column: str = "properties") -> str:
        return f"nullIf(JSONExtractString({column}, {self.literal(key)}), '')"

    def prop_text(self, key: str, column: str = "properties") -> str:
        # JSONExtractString answers '' for a number or a boolean; take those raw, as DuckDB does.
        k = self.literal(key)
        return (
            f"nullIf(if(JSONType({column}, {k}) = 'String', JSONExtractString({column}, {k}), "
            f"if(JSONType({column}, {k}) = 'Null', '', JSONExtractRaw({column}, {k}))), '')"
        )

    def prop_number(self, key: str, column: str = "properties") -> str:
        return f"JSONExtract({column}, {self.literal(key)}, 'Nullable(Float64)')"

    def count_if(self, condition: str) -> str:
        return f"countIf({condition})"

    def min_if(self, expr: str, condition: str) -> str:
        # OrNull: ClickHouse would otherwise answer 1970-01-01 when no row matches.
        return f"minOrNullIf({expr}, {condition})"

    def max_if(self, expr: str, condition: str) -> str:
        return f"maxOrNullIf({expr}, {condition})"

    def month_start(self, ts: str) -> str:
        return f"toStartOfMonth({ts})"

    def month_label(self, ts: str) -> str:
        return f"formatDateTime({ts}, '%Y-%m')"


@dataclass(frozen=True)
class HogQL(ClickHouse):
    def prop(self, key: str, column: str = "properties") -> str:
        if key.replace("_", "").replace("$", "").isalnum():
            return f"{column}.{key}"
        return f"{column}[{self.literal(key)}]"

    def prop_text(self, key: str, column: str = "properties") -> str:
        return self.prop(key, column)

    def prop_number(self, key: str, column: str = "properties") -> str:
        return f"toFloat({self.prop(key, column)})"


def _json_key(key: str) -> str:
    """A JSONPath member: plain names as is, anything else (such as `$session_id`) quoted, with
    backslashes and quotes escaped as DuckDB's path reader reads them."""
    if key.replace("_", "").isalnum():
        return key
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def json_path(key: str) -> str:
    """DuckDB's JSON path of a top-level key (`$.name`, or `$."any key"`): the one builder."""
    return "$." + _json_key(key)


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
