"""The audit as one SQL query over PostHog's `events` table, for ClickHouse or HogQL.

It returns rows `(kind, event, property, count)` with the same checks as the DuckDB engine,
for the kinds a single aggregate query can express. `properties` is the JSON string column.
The plan travels inside the query as map literals (key -> rule, event -> allowed keys).
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.audit.rules import EMAIL_LIKE, FORMAT_PATTERNS, PHONE_LIKE, AuditRules
from compiler.audit.tables import PlanTables
from compiler.funnel.dialects import DIALECTS as REGISTRY
from compiler.funnel.dialects import get as dialect
from compiler.plan.model import Plan

CLICKHOUSE = dialect("clickhouse")
# Kinds that need more than one row or more than the table: left out of the SQL forms.
OMITTED = ("unparseable_row", "sequence_violation", "identity_violation", "never_seen")


def q(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(float(value))
    return CLICKHOUSE.literal(str(value))  # HogQL reads string literals as ClickHouse does


def arr(values: Sequence[object], empty: str = "String") -> str:
    if not values:
        return f"CAST([], 'Array({empty})')"
    return "[" + ", ".join(q(v) for v in values) + "]"


def strmap(pairs: dict[str, str]) -> str:
    return "map(" + ", ".join(f"{q(k)}, {q(v)}" for k, v in pairs.items()) + ")"


def arrmap(pairs: dict[str, list[str]]) -> str:
    return "map(" + ", ".join(f"{q(k)}, {arr(v)}" for k, v in pairs.items()) + ")"


def numarr(values: list[float | None]) -> str:
    return "[" + ", ".join("nan" if v is None else repr(float(v)) for v in values) + "]"


def _regex_multi(id_expr: str, patterns: tuple[str, ...], value: str) -> str:
    if not patterns:
        return "1"
    branches = ", ".join(
        f"{id_expr} = {i}, match({value}, {q(p)})" for i, p in enumerate(patterns, 1)
    )
    return f"multiIf({branches}, 1)"


def _entry_kinds(t: PlanTables, rules: AuditRules) -> str:
    """For key `k` of the row: an array of the value findings (kind strings)."""
    keys = [k.key for k in t.keys]
    pos = f"indexOf({arr(keys)}, k)"

    def field(values: str) -> str:
        return f"arrayElement({values}, {pos})"

    type_ = field(arr([k.type for k in t.keys]))
    jt = "toString(JSONType(properties, k))"
    s = "JSONExtractString(properties, k)"
    num = "JSONExtractFloat(properties, k)"
    items = "JSONExtractArrayRaw(properties, k)"
    items_type = field(arr([k.items_type or "" for k in t.keys]))
    item_ok = (
        f"multiIf({items_type} = 'string', toString(JSONType(x)) = 'String', "
        f"{items_type} = 'boolean', toString(JSONType(x)) = 'Bool', "
        f"{items_type} = 'number', toString(JSONType(x)) IN ('Int64', 'UInt64', 'Double'), "
        f"{items_type} = 'integer', toString(JSONType(x)) IN ('Int64', 'UInt64') OR "
        f"(toString(JSONType(x)) = 'Double' AND JSONExtractFloat(x) = floor(JSONExtractFloat(x))), 1)"
    )
    items_bad = f"({items_type} != '' AND arrayExists(x -> NOT ({item_ok}), {items}))"
    ok = (
        f"multiIf({type_} = 'string', {jt} = 'String', {type_} = 'boolean', {jt} = 'Bool', "
        f"{type_} = 'number', {jt} IN ('Int64', 'UInt64', 'Double'), "
        f"{type_} = 'integer', {jt} IN ('Int64', 'UInt64') OR ({jt} = 'Double' AND {num} = floor({num})), "
        f"{type_} = 'array', {jt} = 'Array' AND NOT {items_bad}, 0)"
    )
    enum_text = field("[" + ", ".join(arr(k.enum_text or ()) for k in t.keys) + "]")
    enum_number = field("[" + ", ".join(arr(k.enum_number or (), "Float64") for k in t.keys) + "]")
    items_enum = field("[" + ", ".join(arr(k.items_enum or ()) for k in t.keys) + "]")
    has_enum_text = field(arr([k.enum_text is not None for k in t.keys]))
    has_enum_number = field(arr([k.enum_number is not None for k in t.keys]))
    has_items_enum = field(arr([k.items_enum is not None for k in t.keys]))
    layers = arrmap({e.event: list(e.layers) for e in t.events})
    # The key holding the sending layer (role source), when the plan has one.
    source = (
        f"k = {q(rules.source_key)}, multiIf(has({layers}[event], {s}), '', has({enum_text}, {s}), "
        f"'wrong_source', 'enum_violation'), "
        if rules.source_key is not None
        else ""
    )
    enum_kind = (
        f"multiIf({source}"
        f"{has_enum_text} AND NOT has({enum_text}, {s}), 'enum_violation', "
        f"{has_enum_number} AND NOT has({enum_number}, {num}), 'enum_violation', "
        f"{has_items_enum} AND arrayExists(x -> NOT has({items_enum}, JSONExtractString(x)), {items}), "
        "'enum_violation', '')"
    )
    minimum = field(numarr([k.minimum for k in t.keys]))
    maximum = field(numarr([k.maximum for k in t.keys]))
    min_len = field(numarr([None if k.min_length is None else float(k.min_length) for k in t.keys]))
    max_len = field(numarr([None if k.max_length is None else float(k.max_length) for k in t.keys]))
    pattern = field("[" + ", ".join(str(k.pattern) for k in t.keys) + "]")
    fmt = field("[" + ", ".join(str(k.format) for k in t.keys) + "]")
    constraint = (
        f"multiIf({type_} IN ('integer', 'number'), "
        f"(NOT isNaN({minimum}) AND {num} < {minimum}) OR (NOT isNaN({maximum}) AND {num} > {maximum}), "
        f"{type_} = 'string', (NOT isNaN({min_len}) AND lengthUTF8({s}) < {min_len}) "
        f"OR (NOT isNaN({max_len}) AND lengthUTF8({s}) > {max_len}) "
        f"OR NOT {_regex_multi(pattern, t.patterns, s)} OR NOT {_regex_multi(fmt, t.formats, s)}, 0)"
    )
    nullable = field(arr([k.nullable for k in t.keys]))
    non_null = arr(
        sorted(f"{e.event}|{k.key}" for e in t.events for k in t.keys if e.non_null[k.index - 1])
    )
    null_bad = f"(NOT {nullable} OR has({non_null}, concat(event, '|', k)))"
    return (
        f"if({jt} = 'Null', [if({null_bad}, 'null_violation', '')], "
        f"if(NOT {ok}, ['type_mismatch'], [{enum_kind}, if({constraint}, 'constraint_violation', '')]))"
    )


def _row_findings(t: PlanTables, rules: AuditRules) -> str:
    """Per row: an array of (kind, property) tuples."""
    events = sorted(rules.plan.events)
    known = f"event IN ({', '.join(q(e) for e in events)})"
    allowed = arrmap({e: sorted(rules.allowed_keys(e)) for e in events})
    names = {k.key: k.name for k in t.keys}
    envelope = {k.index for k in t.keys if k.envelope}
    required_env = arrmap(
        {
            e.event: [
                names_key for i in e.required if i in envelope for names_key in [t.keys[i - 1].key]
            ]
            for e in t.events
        }
    )
    required = arrmap(
        {e.event: [t.keys[i - 1].key for i in e.required if i not in envelope] for e in t.events}
    )
    rename = f"if(has({arr(list(names))}, k), arrayElement({arr(list(names.values()))}, indexOf({arr(list(names))}, k)), k)"
    tolerated = arr(sorted(rules.tolerated | set(rules.deprecated) | {"$session_id"}))
    system = "" if rules.strict_system else " AND NOT startsWith(k, '$')"
    unknown = f"NOT ({known})" + ("" if rules.strict_system else " AND NOT startsWith(event, '$')")
    pii = (
        f"arrayFilter(k -> NOT startsWith(k, '$') AND NOT has({arr(sorted(rules.pii))}, k) "
        f"AND toString(JSONType(properties, k)) = 'String' AND (match(JSONExtractString(properties, k), "
        f"{q(EMAIL_LIKE)}) OR match(JSONExtractString(properties, k), {q(PHONE_LIKE)})), keys)"
    )
    columns = []
    for col in rules.columns:
        c = col.column  # PostHog's column; findings name the plan's field
        if col.required:
            columns.append(
                f"if({known} AND ({c} IS NULL), [('missing_envelope_field', {q(col.name)})], [])"
            )
        if c == "timestamp":
            continue
        failed = []
        if col.prop.min_length is not None:
            failed.append(f"lengthUTF8({c}) < {col.prop.min_length}")
        for pattern in (col.prop.pattern, FORMAT_PATTERNS.get(col.prop.format or "")):
            if pattern:
                failed.append(f"NOT match({c}, {q(pattern)})")
        if failed:
            columns.append(
                f"if({known} AND {c} IS NOT NULL AND ({' OR '.join(failed)}), "
                f"[('constraint_violation', {q(col.name)})], [])"
            )
    value_kinds = _entry_kinds(t, rules)
    parts = [
        f"if({unknown}, [('unknown_event', '')], [])",
        *columns,
        f"if({known}, arrayMap(k -> ('missing_envelope_field', {rename}), arrayFilter(k -> NOT has(keys, k), {required_env}[event])), [])",
        f"if({known}, arrayMap(k -> ('missing_required_property', k), arrayFilter(k -> NOT has(keys, k), {required}[event])), [])",
        f"if({known}, arrayMap(k -> ('undocumented_property', k), arrayFilter(k -> NOT has({allowed}[event], k) AND NOT has({tolerated}, k){system}, keys)), [])",
        f"if({known}, arrayMap(k -> ('deprecated_property', k), arrayFilter(k -> has({arr(sorted(rules.deprecated))}, k), keys)), [])",
        f"arrayMap(k -> ('pii_leak', k), {pii})",
        f"if({known}, arrayFlatten(arrayMap(k -> arrayMap(kind -> (kind, {rename}), arrayFilter(kind -> kind != '', {value_kinds})), "
        f"arrayFilter(k -> has({allowed}[event], k), keys))), [])",
    ]
    return "arrayConcat(\n      " + ",\n      ".join(parts) + ")"


def clickhouse_sql(plan: Plan, *, strict_system: bool = False) -> str:
    rules = AuditRules(plan, strict_system=strict_system)
    t = PlanTables(rules)
    return f"""-- trackplan audit of {plan.name} {plan.version}: rows (kind, event, property, count).
-- Left out (need several rows or the raw file): {', '.join(OMITTED)}.
SELECT f.1 AS kind, event, nullIf(f.2, '') AS property, count() AS count
FROM (
  SELECT event, {_row_findings(t, rules)} AS found
  FROM (SELECT event, distinct_id, uuid, timestamp, properties,
               JSONExtractKeys(properties) AS keys FROM events)
)
ARRAY JOIN found AS f
GROUP BY kind, event, property
ORDER BY kind, event, property
"""


HOGQL_OMITTED = (
    *OMITTED,
    "type_mismatch",
    "null_violation",
    "undocumented_property",
    "deprecated_property",
    "pii_leak",
)


def _prop(key: str) -> str:
    """HogQL property access: `properties.x`, or `properties['x']` for unusual names."""
    plain = key.lstrip("$").replace("_", "").isalnum()
    return f"properties.{key}" if plain else f"properties[{q(key)}]"


def _hogql_checks(rules: AuditRules, t: PlanTables) -> list[tuple[str, str, list[str], str]]:
    """(kind, property, events, countIf condition) for what HogQL's typed access can check."""
    out = []
    events = sorted(rules.plan.events)
    for k in t.keys:
        prop = _prop(k.key)
        required = [e.event for e in t.events if k.index in e.required]
        if required:
            kind = "missing_envelope_field" if k.envelope else "missing_required_property"
            out.append((kind, k.name, required, f"{prop} IS NULL"))
        allowed = [e.event for e in t.events if e.allowed[k.index - 1]]
        if k.name == rules.source_name:
            continue  # wrong_source, below
        if k.enum_text:
            out.append(
                (
                    "enum_violation",
                    k.name,
                    allowed,
                    f"{prop} NOT IN ({', '.join(q(v) for v in k.enum_text)})",
                )
            )
        failed = []
        if k.type in ("integer", "number"):
            if k.minimum is not None:
                failed.append(f"toFloat({prop}) < {k.minimum!r}")
            if k.maximum is not None:
                failed.append(f"toFloat({prop}) > {k.maximum!r}")
        for pattern in (
            rules.plan.properties[k.name].pattern if k.name in rules.plan.properties else None,
            (
                FORMAT_PATTERNS.get(rules.plan.properties[k.name].format or "")
                if k.name in rules.plan.properties
                else None
            ),
        ):
            if pattern and k.type == "string":
                failed.append(f"NOT match({prop}, {q(pattern)})")
        if failed:
            out.append(("constraint_violation", k.name, allowed, " OR ".join(failed)))
    if rules.source_name is not None and rules.source_key is not None:
        source = _prop(rules.source_key)
        for e in t.events:
            layers = ", ".join(q(v) for v in e.layers)
            if not t.source_enum:  # no list of layers to be wrong within: a bad value
                out.append(
                    ("enum_violation", rules.source_name, [e.event], f"{source} NOT IN ({layers})")
                )
                continue
            out.append(
                (
                    "wrong_source",
                    rules.source_name,
                    [e.event],
                    f"{source} IN ({', '.join(q(v) for v in t.source_enum)}) AND {source} NOT IN ({layers})",
                )
            )
    del events
    return out


def hogql_sql(plan: Plan, *, strict_system: bool = False) -> str:
    """The HogQL form for PostHog's SQL editor and query API, over the last 30 days.

    HogQL reads properties through typed access (`properties.x`), which cannot tell a JSON null
    from a missing key or a string from a number, so the kinds that need JSON types are left
    out here (the ClickHouse form has them).
    """
    rules = AuditRules(plan, strict_system=strict_system)
    t = PlanTables(rules)
    window = "timestamp > now() - INTERVAL 30 DAY"
    known = ", ".join(q(e) for e in sorted(plan.events))
    system = "" if strict_system else " AND NOT startsWith(event, '$')"
    selects = [
        f"SELECT 'unknown_event' AS kind, event, NULL AS property, "
        f"countIf(event NOT IN ({known}){system}) AS count FROM events WHERE {window} GROUP BY event"
    ]
    for kind, prop, events, condition in _hogql_checks(rules, t):
        selects.append(
            f"SELECT {q(kind)} AS kind, event, {q(prop)} AS property, countIf({condition}) AS count "
            f"FROM events WHERE {window} AND event IN ({', '.join(q(e) for e in events)}) GROUP BY event"
        )
    body = "\nUNION ALL\n".join(selects)
    return (
        f"-- trackplan audit (HogQL) of {plan.name} {plan.version}: rows (kind, event, property, count).\n"
        f"-- Left out (need JSON types, several rows or the raw file): {', '.join(HOGQL_OMITTED)}.\n"
        f"SELECT kind, event, property, sum(count) AS count FROM (\n{body}\n)\n"
        "WHERE count > 0 GROUP BY kind, event, property ORDER BY kind, event, property\n"
    )


# The audit as SQL for the warehouse dialects of the one registry (compiler/funnel/dialects.py).
RENDERERS = {"clickhouse": clickhouse_sql, "hogql": hogql_sql}
DIALECTS = tuple(name for name in REGISTRY if name in RENDERERS)


def emit_sql(plan: Plan, dialect: str, *, strict_system: bool = False) -> str:
    return RENDERERS[dialect](plan, strict_system=strict_system)
