"""DuckDB over an exported `events` table (properties a JSON string)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from compiler.funnel.dialect_base import Dialect, json_path

_TYPES = {"text": "VARCHAR", "number": "DOUBLE"}


@dataclass(frozen=True)
class DuckDB(Dialect):
    audit_form: ClassVar[str | None] = "json"
    json_type_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "string": ("VARCHAR",),
        "boolean": ("BOOLEAN",),
        "integer": ("BIGINT", "UBIGINT"),
        "double": ("DOUBLE",),
        "null": ("NULL",),
        "array": ("ARRAY",),
    }

    def prop(self, key: str, column: str = "properties") -> str:
        return f"nullif(json_extract_string({column}, {self.literal(json_path(key))}), '')"

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

    def arg_at(self, value: str, ts: str, condition: str, last: bool) -> str:
        func = "arg_max" if last else "arg_min"
        return f"{func}({value}, {ts}) FILTER (WHERE {condition})"

    def distinct_if(self, value: str, condition: str) -> str:
        return f"count(DISTINCT {value}) FILTER (WHERE {condition})"

    # ---- the audit's JSON form -----------------------------------------------------------

    def array(self, values: Sequence[object], element: str = "text") -> str:
        items = self.array_expr([self.value(v) for v in values])
        if element == "number" or not values:
            return f"CAST({items} AS {_TYPES[element]}[])"
        return items

    def number_array(self, values: Sequence[float | None]) -> str:
        items = ["'nan'::DOUBLE" if v is None else repr(float(v)) for v in values]
        return f"CAST({self.array_expr(items)} AS DOUBLE[])"

    def map_literal(self, pairs: dict[str, str]) -> str:
        return "MAP {" + ", ".join(f"{self.literal(k)}: {v}" for k, v in pairs.items()) + "}"

    def map_get(self, mapping: str, key: str) -> str:
        return f"{mapping}[{key}]"

    def pair(self, first: str, second: str) -> str:
        return f"row({first}, {second})"

    def pair_item(self, pair: str, n: int) -> str:
        return f"{pair}[{int(n)}]"

    def element(self, array: str, position: str) -> str:
        return f"{array}[{position}]"

    def index_of(self, array: str, item: str) -> str:
        return f"list_position({array}, {item})"

    def has(self, array: str, item: str) -> str:
        return f"list_contains({array}, {item})"

    def any_of(self, var: str, condition: str, array: str) -> str:
        return f"len({self.filter(var, condition, array)}) > 0"

    def filter(self, var: str, condition: str, array: str) -> str:
        return f"list_filter({array}, lambda {var}: {condition})"

    def transform(self, var: str, expr: str, array: str) -> str:
        return f"list_transform({array}, lambda {var}: {expr})"

    def flatten(self, arrays: str) -> str:
        return f"flatten({arrays})"

    def concat_arrays(self, parts: Sequence[str], indent: str = "") -> str:
        return f"flatten([{indent}{(',' + (indent or ' ')).join(parts)}])"

    def array_join(self, relation: str, array: str, alias: str) -> str:
        return f"(SELECT event, unnest({array}) AS {alias} FROM {relation})"

    def multi_if(self, branches: Sequence[tuple[str, str]], otherwise: str) -> str:
        whens = " ".join(f"WHEN {c} THEN {v}" for c, v in branches)
        return f"CASE {whens} ELSE {otherwise} END"

    def regex_match(self, text: str, pattern: str) -> str:
        return f"regexp_matches({text}, {pattern})"

    def char_length(self, text: str) -> str:
        return f"length({text})"

    def is_nan(self, number: str) -> str:
        return f"isnan({number})"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"starts_with({text}, {prefix})"

    def json_keys(self, json: str) -> str:
        return f"json_keys({json})"

    def json_type(self, json: str, key: str | None = None) -> str:
        # A JSON null inside a list of JSON values is an SQL NULL: its type is NULL too.
        return f"coalesce(json_type({json}, {_pointer(key)}), 'NULL')"

    def json_text(self, json: str, key: str | None = None) -> str:
        return f"json_extract_string({json}, {_pointer(key)})"

    def json_float(self, json: str, key: str | None = None) -> str:
        return f"TRY_CAST({self.json_text(json, key)} AS DOUBLE)"

    def json_items(self, json: str, key: str) -> str:
        return f"TRY_CAST(json_extract({json}, {_pointer(key)}) AS JSON[])"


def _pointer(key: str | None) -> str:
    """The JSON pointer (RFC 6901) of member `key`, an SQL expression computed per row: no
    JSONPath quoting to get wrong, whatever the key holds. The value itself when None."""
    if key is None:
        return "'$'"
    return f"'/' || replace(replace({key}, '~', '~0'), '/', '~1')"
