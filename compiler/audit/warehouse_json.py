"""The audit's "json" form: one aggregate query over the JSON string column `properties`.

The plan travels inside the query as array and map literals (key -> rule, event -> allowed
keys) and every present key of a row is checked against them by its JSON type, with the
dialect's constructs (`Dialect` in compiler/funnel/dialect_base.py). Entry: `warehouse.py`.
"""

from __future__ import annotations

from compiler.audit.rules import EMAIL_LIKE, PHONE_LIKE, AuditRules
from compiler.audit.tables import PlanTables, column_failures
from compiler.funnel.dialects import Dialect
from compiler.plan.model import Plan

# Kinds that need more than one row or more than the table: left out of the SQL forms.
OMITTED = ("unparseable_row", "sequence_violation", "identity_violation", "never_seen")


def _is(d: Dialect, json_type: str, *kinds: str) -> str:
    """`json_type` (a `d.json_type` expression) is one of the JSON value `kinds`."""
    names = [d.literal(n) for kind in kinds for n in d.json_type_names[kind]]
    return (
        f"{json_type} = {names[0]}" if len(names) == 1 else f"{json_type} IN ({', '.join(names)})"
    )


def _whole(d: Dialect, json_type: str, number: str) -> str:
    """A JSON integer, or a JSON double with no fraction (JSON Schema's integer)."""
    double = _is(d, json_type, "double")
    return f"{_is(d, json_type, 'integer')} OR ({double} AND {number} = floor({number}))"


def _regex_multi(d: Dialect, id_expr: str, patterns: tuple[str, ...], value: str) -> str:
    if not patterns:
        return d.boolean(True)
    branches = [
        (f"{id_expr} = {i}", d.regex_match(value, d.literal(p))) for i, p in enumerate(patterns, 1)
    ]
    return d.multi_if(branches, d.boolean(True))


def _entry_kinds(d: Dialect, t: PlanTables, rules: AuditRules) -> str:
    """For key `k` of the row: an array of the value findings (kind strings)."""
    lit = d.literal
    pos = d.index_of(d.array([k.key for k in t.keys]), "k")

    def field(values: str) -> str:
        return d.element(values, pos)

    type_ = field(d.array([k.type for k in t.keys]))
    jt, s = d.json_type("properties", "k"), d.json_text("properties", "k")
    num, items = d.json_float("properties", "k"), d.json_items("properties", "k")
    items_type = field(d.array([k.items_type or "" for k in t.keys]))
    xt = d.json_type("x")
    item_ok = d.multi_if(
        [
            (f"{items_type} = {lit('string')}", _is(d, xt, "string")),
            (f"{items_type} = {lit('boolean')}", _is(d, xt, "boolean")),
            (f"{items_type} = {lit('number')}", _is(d, xt, "integer", "double")),
            (f"{items_type} = {lit('integer')}", _whole(d, xt, d.json_float("x"))),
        ],
        d.boolean(True),
    )
    items_bad = f"({items_type} != {lit('')} AND {d.any_of('x', f'NOT ({item_ok})', items)})"
    ok = d.multi_if(
        [
            (f"{type_} = {lit('string')}", _is(d, jt, "string")),
            (f"{type_} = {lit('boolean')}", _is(d, jt, "boolean")),
            (f"{type_} = {lit('number')}", _is(d, jt, "integer", "double")),
            (f"{type_} = {lit('integer')}", _whole(d, jt, num)),
            (f"{type_} = {lit('array')}", f"{_is(d, jt, 'array')} AND NOT {items_bad}"),
        ],
        d.boolean(False),
    )
    enum_text = field(d.array_expr([d.array(k.enum_text or ()) for k in t.keys]))
    enum_number = field(d.array_expr([d.array(k.enum_number or (), "number") for k in t.keys]))
    items_enum = field(d.array_expr([d.array(k.items_enum or ()) for k in t.keys]))
    has_enum_text = field(d.array([k.enum_text is not None for k in t.keys]))
    has_enum_number = field(d.array([k.enum_number is not None for k in t.keys]))
    has_items_enum = field(d.array([k.items_enum is not None for k in t.keys]))
    layers = d.map_literal({e.event: d.array(list(e.layers)) for e in t.events})
    enum_bad = lit("enum_violation")
    # The key holding the sending layer (role source), when the plan has one.
    source = (
        [
            (
                f"k = {lit(rules.source_key)}",
                d.multi_if(
                    [
                        (d.has(d.map_get(layers, "event"), s), lit("")),
                        (d.has(enum_text, s), lit("wrong_source")),
                    ],
                    enum_bad,
                ),
            )
        ]
        if rules.source_key is not None
        else []
    )
    item_not_in_enum = f"NOT {d.has(items_enum, d.json_text('x'))}"
    enum_kind = d.multi_if(
        [
            *source,
            (f"{has_enum_text} AND NOT {d.has(enum_text, s)}", enum_bad),
            (f"{has_enum_number} AND NOT {d.has(enum_number, num)}", enum_bad),
            (f"{has_items_enum} AND {d.any_of('x', item_not_in_enum, items)}", enum_bad),
        ],
        lit(""),
    )
    minimum = field(d.number_array([k.minimum for k in t.keys]))
    maximum = field(d.number_array([k.maximum for k in t.keys]))
    min_len = field(d.number_array([k.min_length for k in t.keys]))
    max_len = field(d.number_array([k.max_length for k in t.keys]))
    pattern = field(d.array_expr([str(k.pattern) for k in t.keys]))
    fmt = field(d.array_expr([str(k.format) for k in t.keys]))
    length = d.char_length(s)
    constraint = d.multi_if(
        [
            (
                f"{type_} IN ({lit('integer')}, {lit('number')})",
                f"(NOT {d.is_nan(minimum)} AND {num} < {minimum}) "
                f"OR (NOT {d.is_nan(maximum)} AND {num} > {maximum})",
            ),
            (
                f"{type_} = {lit('string')}",
                f"(NOT {d.is_nan(min_len)} AND {length} < {min_len}) "
                f"OR (NOT {d.is_nan(max_len)} AND {length} > {max_len}) "
                f"OR NOT {_regex_multi(d, pattern, t.patterns, s)} "
                f"OR NOT {_regex_multi(d, fmt, t.formats, s)}",
            ),
        ],
        d.boolean(False),
    )
    nullable = field(d.array([k.nullable for k in t.keys]))
    non_null = d.array(
        sorted(f"{e.event}|{k.key}" for e in t.events for k in t.keys if e.non_null[k.index - 1])
    )
    null_bad = f"(NOT {nullable} OR {d.has(non_null, f'concat(event, {lit(chr(124))}, k)')})"
    return d.if_(
        _is(d, jt, "null"),
        d.array_expr([d.if_(null_bad, lit("null_violation"), lit(""))]),
        d.if_(
            f"NOT {ok}",
            d.array_expr([lit("type_mismatch")]),
            d.array_expr([enum_kind, d.if_(constraint, lit("constraint_violation"), lit(""))]),
        ),
    )


def _row_findings(d: Dialect, t: PlanTables, rules: AuditRules) -> str:
    """Per row: an array of (kind, property) pairs."""
    lit = d.literal
    events = sorted(rules.plan.events)
    known = f"event IN ({', '.join(lit(e) for e in events)})"
    allowed = d.map_get(
        d.map_literal({e: d.array(sorted(rules.allowed_keys(e))) for e in events}), "event"
    )
    names = {k.key: k.name for k in t.keys}
    envelope = {k.index for k in t.keys if k.envelope}
    required_env = d.map_literal(
        {
            e.event: d.array([t.keys[i - 1].key for i in e.required if i in envelope])
            for e in t.events
        }
    )
    required = d.map_literal(
        {
            e.event: d.array([t.keys[i - 1].key for i in e.required if i not in envelope])
            for e in t.events
        }
    )
    plan_keys = d.array(list(names))
    rename = d.if_(
        d.has(plan_keys, "k"),
        d.element(d.array(list(names.values())), d.index_of(plan_keys, "k")),
        "k",
    )
    tolerated = d.array(sorted(rules.tolerated | set(rules.deprecated) | {"$session_id"}))
    system = "" if rules.strict_system else f" AND NOT {d.starts_with('k', lit('$'))}"
    unknown = f"NOT ({known})" + (
        "" if rules.strict_system else f" AND NOT {d.starts_with('event', lit('$'))}"
    )
    s = d.json_text("properties", "k")
    pii = d.filter(
        "k",
        f"NOT {d.starts_with('k', lit('$'))} AND NOT {d.has(d.array(sorted(rules.pii)), 'k')} "
        f"AND {_is(d, d.json_type('properties', 'k'), 'string')} AND "
        f"({d.regex_match(s, lit(EMAIL_LIKE))} OR {d.regex_match(s, lit(PHONE_LIKE))})",
        "keys",
    )
    none = d.array_expr([])

    def one(kind: str, prop: str) -> str:
        return d.array_expr([d.pair(lit(kind), prop)])

    columns = [
        d.if_(f"{known} AND {condition}", one(kind, lit(name)), none)
        for kind, name, condition in column_failures(rules, d)
    ]

    def each(kind: str, prop: str, keys: str) -> str:
        return d.transform("k", d.pair(lit(kind), prop), keys)

    absent = f"NOT {d.has('keys', 'k')}"
    undocumented = f"NOT {d.has(allowed, 'k')} AND NOT {d.has(tolerated, 'k')}{system}"
    deprecated = d.has(d.array(sorted(rules.deprecated)), "k")
    value_kinds = d.filter("kind", f"kind != {lit('')}", _entry_kinds(d, t, rules))
    checked = d.filter("k", d.has(allowed, "k"), "keys")
    parts = [
        d.if_(unknown, one("unknown_event", lit("")), none),
        *columns,
        d.if_(
            known,
            each(
                "missing_envelope_field",
                rename,
                d.filter("k", absent, d.map_get(required_env, "event")),
            ),
            none,
        ),
        d.if_(
            known,
            each(
                "missing_required_property",
                "k",
                d.filter("k", absent, d.map_get(required, "event")),
            ),
            none,
        ),
        d.if_(known, each("undocumented_property", "k", d.filter("k", undocumented, "keys")), none),
        d.if_(known, each("deprecated_property", "k", d.filter("k", deprecated, "keys")), none),
        each("pii_leak", "k", pii),
        d.if_(
            known,
            d.flatten(
                d.transform("k", d.transform("kind", d.pair("kind", rename), value_kinds), checked)
            ),
            none,
        ),
    ]
    return d.concat_arrays(parts, indent="\n      ")


def json_sql(plan: Plan, d: Dialect, *, strict_system: bool = False) -> str:
    """The "json" form: every check, over the JSON string column `properties`."""
    rules = AuditRules(plan, strict_system=strict_system)
    t = PlanTables(rules)
    rows = (
        f"(\n  SELECT event, {_row_findings(d, t, rules)} AS found\n"
        "  FROM (SELECT event, distinct_id, uuid, timestamp, properties,\n"
        f"               {d.json_keys('properties')} AS keys FROM events)\n)"
    )
    kind, prop = d.pair_item("f", 1), d.nullif(d.pair_item("f", 2), d.literal(""))
    return f"""-- trackplan audit of {plan.name} {plan.version}: rows (kind, event, property, count).
-- Left out (need several rows or the raw file): {', '.join(OMITTED)}.
SELECT {kind} AS kind, event, {prop} AS property, count() AS count
FROM {d.array_join(rows, "found", "f")}
GROUP BY kind, event, property
ORDER BY kind, event, property
"""
