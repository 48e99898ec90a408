"""What a SQL dialect answers: the `Dialect` base class, and standard SQL quoting.

A query (the funnel's, a model's features, the audit's warehouse form) is written once against
these methods; a dialect (`dialect_clickhouse.py`, `dialect_duckdb.py`) answers where HogQL,
ClickHouse and DuckDB differ. The registry of dialects is `dialects.py`.

Three groups of answers:
- funnel: reading a property, conditional aggregates, "now", month buckets, whether persons
  are stitched from `$identify`;
- features (`models/features.py`): a value at the first or last matching row, a distinct count;
- the audit over raw JSON (`audit/warehouse.py`): literals, arrays and maps of the plan's
  tables, lambdas over arrays, and the JSON type of a value under a key computed per row.
  `audit_form` says which form of the audit the dialect takes: "json" (one aggregate query over
  the JSON column), "typed" (per-check counts over typed property access, HogQL) or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


def quote(value: str) -> str:
    """A standard SQL (DuckDB) string literal: quotes doubled, backslashes plain characters.
    SQL for ClickHouse or HogQL takes its literals from `Dialect.literal`."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A standard SQL (DuckDB) quoted identifier: double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _json_key(key: str) -> str:
    """A JSONPath member: plain names as is, anything else (such as `$session_id`) quoted, with
    backslashes and quotes escaped as DuckDB's path reader reads them."""
    if key.replace("_", "").isalnum():
        return key
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def json_path(key: str) -> str:
    """DuckDB's JSON path of a top-level key (`$.name`, or `$."any key"`): the one builder."""
    return "$." + _json_key(key)


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

    # The audit's warehouse form for this dialect (see the module docstring); None: no audit.
    audit_form: ClassVar[str | None] = None
    # JSON value kinds (string, boolean, integer, double, null, array) -> what `json_type`
    # answers for them in this dialect.
    json_type_names: ClassVar[dict[str, tuple[str, ...]]] = {}

    # ---- literals ----------------------------------------------------------------------

    def literal(self, value: str) -> str:
        """`value` as a string literal of this dialect (plan names and values can hold quotes
        and backslashes)."""
        return quote(value)

    def value(self, value: object) -> str:
        """A plan value as a literal: booleans, numbers (as floats) and text."""
        if isinstance(value, bool):
            return self.boolean(value)
        if isinstance(value, (int, float)):
            return repr(float(value))
        return self.literal(str(value))

    def boolean(self, value: bool) -> str:
        return "true" if value else "false"

    # ---- funnel ------------------------------------------------------------------------

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

    # ---- features ----------------------------------------------------------------------

    def arg_at(self, value: str, ts: str, condition: str, last: bool) -> str:
        """`value` on the earliest (or, with `last`, the latest) row meeting `condition`; NULL
        when none does. The condition must exclude rows where `value` is NULL."""
        raise NotImplementedError

    def distinct_if(self, value: str, condition: str) -> str:
        """How many distinct non-NULL `value`s the rows meeting `condition` hold."""
        raise NotImplementedError

    def days_between(self, start: str, end: str) -> str:
        """Days (fractional) from `start` to `end`; every dialect here spells dateDiff the same
        way (DuckDB's names are case-insensitive)."""
        return f"dateDiff('second', {start}, {end}) / 86400.0"

    def sum_if(self, value: str, condition: str) -> str:
        """The sum of `value` over rows meeting `condition`, 0 when none do."""
        return f"coalesce(sum(CASE WHEN {condition} THEN {value} END), 0)"

    def avg_if(self, value: str, condition: str) -> str:
        """The mean of the non-NULL `value`s over rows meeting `condition`, NULL when none."""
        return f"avg(CASE WHEN {condition} THEN {value} END)"

    # ---- the audit's JSON form: values, arrays, maps -----------------------------------

    def array(self, values: Sequence[object], element: str = "text") -> str:
        """An array literal of plan values; `element` ("text" or "number") types it when
        empty."""
        raise NotImplementedError

    def array_expr(self, items: Sequence[str]) -> str:
        """An array of SQL expressions (rendered arrays, numbers)."""
        return "[" + ", ".join(items) + "]"

    def number_array(self, values: Sequence[float | None]) -> str:
        """An array of floats, NaN where the plan has no value (tested with `is_nan`)."""
        raise NotImplementedError

    def map_literal(self, pairs: dict[str, str]) -> str:
        """A map from text keys to SQL expressions (rendered arrays)."""
        raise NotImplementedError

    def map_get(self, mapping: str, key: str) -> str:
        """The value under `key` (an SQL expression) in `mapping`; the value type's empty value
        when `key` is absent."""
        raise NotImplementedError

    def pair(self, first: str, second: str) -> str:
        """A (kind, property) pair, read back with `pair_item`."""
        raise NotImplementedError

    def pair_item(self, pair: str, n: int) -> str:
        raise NotImplementedError

    # ---- arrays ------------------------------------------------------------------------

    def element(self, array: str, position: str) -> str:
        """The 1-based `position`-th item of `array`."""
        raise NotImplementedError

    def index_of(self, array: str, item: str) -> str:
        """The 1-based position of `item` in `array`, 0 when absent."""
        raise NotImplementedError

    def has(self, array: str, item: str) -> str:
        raise NotImplementedError

    def any_of(self, var: str, condition: str, array: str) -> str:
        """True when some item `var` of `array` meets `condition`."""
        raise NotImplementedError

    def filter(self, var: str, condition: str, array: str) -> str:
        raise NotImplementedError

    def transform(self, var: str, expr: str, array: str) -> str:
        raise NotImplementedError

    def flatten(self, arrays: str) -> str:
        raise NotImplementedError

    def concat_arrays(self, parts: Sequence[str], indent: str = "") -> str:
        """The arrays one after the other; with `indent` (a newline and spaces), one per line."""
        raise NotImplementedError

    def array_join(self, relation: str, array: str, alias: str) -> str:
        """A FROM clause: `relation` (a parenthesised query) with one row per item of its
        column `array`, the item named `alias`; rows with an empty array are dropped."""
        raise NotImplementedError

    # ---- scalars -----------------------------------------------------------------------

    def if_(self, condition: str, then: str, otherwise: str) -> str:
        return f"if({condition}, {then}, {otherwise})"

    def multi_if(self, branches: Sequence[tuple[str, str]], otherwise: str) -> str:
        """The value of the first branch (condition, value) whose condition holds."""
        raise NotImplementedError

    def regex_match(self, text: str, pattern: str) -> str:
        """RE2 `pattern` (an SQL expression) found anywhere in `text`."""
        raise NotImplementedError

    def char_length(self, text: str) -> str:
        """Length in characters (not bytes)."""
        raise NotImplementedError

    def is_nan(self, number: str) -> str:
        raise NotImplementedError

    def starts_with(self, text: str, prefix: str) -> str:
        return f"startsWith({text}, {prefix})"

    # ---- JSON under a key computed per row ---------------------------------------------

    def json_keys(self, json: str) -> str:
        """The top-level keys of the JSON object `json`, as an array of text."""
        raise NotImplementedError

    def json_type(self, json: str, key: str | None = None) -> str:
        """The JSON type of `json` (of its member `key`, an SQL expression, when given): one of
        `json_type_names`."""
        raise NotImplementedError

    def json_text(self, json: str, key: str | None = None) -> str:
        """A JSON string's text ('' when not a string)."""
        raise NotImplementedError

    def json_float(self, json: str, key: str | None = None) -> str:
        """A JSON number as a float."""
        raise NotImplementedError

    def json_items(self, json: str, key: str) -> str:
        """The items of a JSON array member, each as raw JSON (for `json_type` and friends)."""
        raise NotImplementedError
