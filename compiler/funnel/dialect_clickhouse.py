"""ClickHouse over an exported `events` table (properties a JSON string), and HogQL, PostHog's
ClickHouse-based SQL with typed property access (`properties.x`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from compiler.funnel.dialect_base import Dialect

_TYPES = {"text": "String", "number": "Float64"}
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_LITERAL_WORDS = frozenset({"null", "inf", "nan", "infinity"})


@dataclass(frozen=True)
class ClickHouse(Dialect):
    audit_form: ClassVar[str | None] = "json"
    json_type_names: ClassVar[dict[str, tuple[str, ...]]] = {
        "string": ("String",),
        "boolean": ("Bool",),
        "integer": ("Int64", "UInt64"),
        "double": ("Double",),
        "null": ("Null",),
        "array": ("Array",),
    }

    def literal(self, value: str) -> str:
        # A backslash starts an escape in ClickHouse's (and HogQL's) string literals.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def boolean(self, value: bool) -> str:
        return "1" if value else "0"

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

    def arg_at(self, value: str, ts: str, condition: str, last: bool) -> str:
        func = "argMaxIf" if last else "argMinIf"
        # argMin answers the type's default ('' or 0) when no row matches: NULL instead.
        return f"if({self.count_if(condition)} > 0, {func}({value}, {ts}, {condition}), NULL)"

    def distinct_if(self, value: str, condition: str) -> str:
        return f"uniqExactIf({value}, {condition})"

    def array(self, values: Sequence[object], element: str = "text") -> str:
        if not values:
            return f"CAST([], 'Array({_TYPES[element]})')"
        return self.array_expr([self.value(v) for v in values])

    def number_array(self, values: Sequence[float | None]) -> str:
        return self.array_expr(["nan" if v is None else repr(float(v)) for v in values])

    def map_literal(self, pairs: dict[str, str]) -> str:
        return "map(" + ", ".join(f"{self.literal(k)}, {v}" for k, v in pairs.items()) + ")"

    def map_get(self, mapping: str, key: str) -> str:
        return f"{mapping}[{key}]"

    def pair(self, first: str, second: str) -> str:
        return f"({first}, {second})"

    def pair_item(self, pair: str, n: int) -> str:
        return f"{pair}.{int(n)}"

    def element(self, array: str, position: str) -> str:
        return f"arrayElement({array}, {position})"

    def index_of(self, array: str, item: str) -> str:
        return f"indexOf({array}, {item})"

    def has(self, array: str, item: str) -> str:
        return f"has({array}, {item})"

    def any_of(self, var: str, condition: str, array: str) -> str:
        return f"arrayExists({var} -> {condition}, {array})"

    def filter(self, var: str, condition: str, array: str) -> str:
        return f"arrayFilter({var} -> {condition}, {array})"

    def transform(self, var: str, expr: str, array: str) -> str:
        return f"arrayMap({var} -> {expr}, {array})"

    def flatten(self, arrays: str) -> str:
        return f"arrayFlatten({arrays})"

    def concat_arrays(self, parts: Sequence[str], indent: str = "") -> str:
        return f"arrayConcat({indent}{(',' + (indent or ' ')).join(parts)})"

    def array_join(self, relation: str, array: str, alias: str) -> str:
        return f"{relation}\nARRAY JOIN {array} AS {alias}"

    def multi_if(self, branches: Sequence[tuple[str, str]], otherwise: str) -> str:
        return "multiIf(" + "".join(f"{c}, {v}, " for c, v in branches) + f"{otherwise})"

    def regex_match(self, text: str, pattern: str) -> str:
        return f"match({text}, {pattern})"

    def char_length(self, text: str) -> str:
        return f"lengthUTF8({text})"

    def is_nan(self, number: str) -> str:
        return f"isNaN({number})"

    def json_keys(self, json: str) -> str:
        return f"JSONExtractKeys({json})"

    def json_type(self, json: str, key: str | None = None) -> str:
        return f"toString(JSONType({json}{'' if key is None else ', ' + key}))"

    def json_text(self, json: str, key: str | None = None) -> str:
        return f"JSONExtractString({json}{'' if key is None else ', ' + key})"

    def json_float(self, json: str, key: str | None = None) -> str:
        return f"JSONExtractFloat({json}{'' if key is None else ', ' + key})"

    def json_items(self, json: str, key: str) -> str:
        return f"JSONExtractArrayRaw({json}, {key})"


@dataclass(frozen=True)
class HogQL(ClickHouse):
    """HogQL reads properties through typed access, which cannot tell a JSON null from a
    missing key or a string from a number: its audit is the "typed" form."""

    audit_form: ClassVar[str | None] = "typed"

    def prop(self, key: str, column: str = "properties") -> str:
        # `properties.x` only for HogQL identifiers: ASCII letters, digits, _ and $, not led by
        # a digit (`properties.1abc` parses as the tuple item 1 aliased abc), and not a literal
        # word (null, inf, nan, infinity: a syntax error after the dot); else `['key']`.
        if _IDENTIFIER.fullmatch(key) and key.lower() not in _LITERAL_WORDS:
            return f"{column}.{key}"
        return f"{column}[{self.literal(key)}]"

    def prop_text(self, key: str, column: str = "properties") -> str:
        return self.prop(key, column)

    def prop_number(self, key: str, column: str = "properties") -> str:
        return f"toFloat({self.prop(key, column)})"
