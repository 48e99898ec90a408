"""The audit's "typed" form (HogQL): one count per check over typed property access.

Typed access (`properties.x`) cannot tell a JSON null from a missing key or a string from a
number, so the kinds that need JSON types are left out. Entry: `warehouse.py`.
"""

from __future__ import annotations

from compiler.audit.rules import FORMAT_PATTERNS, AuditRules
from compiler.audit.tables import PlanTables
from compiler.audit.warehouse_json import OMITTED
from compiler.funnel.dialects import Dialect
from compiler.plan.model import Plan

TYPED_OMITTED = (
    *OMITTED,
    "type_mismatch",
    "null_violation",
    "undocumented_property",
    "deprecated_property",
    "pii_leak",
)


def _typed_checks(
    d: Dialect, rules: AuditRules, t: PlanTables
) -> list[tuple[str, str, list[str], str]]:
    """(kind, property, events, count condition) for what typed property access can check."""
    lit = d.literal
    out = []
    for k in t.keys:
        prop = d.prop(k.key)
        required = [e.event for e in t.events if k.index in e.required]
        if required:
            kind = "missing_envelope_field" if k.envelope else "missing_required_property"
            out.append((kind, k.name, required, f"{prop} IS NULL"))
        allowed = [e.event for e in t.events if e.allowed[k.index - 1]]
        if k.name == rules.source_name:
            continue  # wrong_source, below
        if k.enum_text:
            values = ", ".join(lit(v) for v in k.enum_text)
            out.append(("enum_violation", k.name, allowed, f"{prop} NOT IN ({values})"))
        failed = []
        if k.type in ("integer", "number"):
            if k.minimum is not None:
                failed.append(f"{d.prop_number(k.key)} < {k.minimum!r}")
            if k.maximum is not None:
                failed.append(f"{d.prop_number(k.key)} > {k.maximum!r}")
        spec = rules.plan.properties.get(k.name)
        if spec is not None and k.type == "string":
            for pattern in (spec.pattern, FORMAT_PATTERNS.get(spec.format or "")):
                if pattern:
                    failed.append(f"NOT {d.regex_match(prop, lit(pattern))}")
        if failed:
            out.append(("constraint_violation", k.name, allowed, " OR ".join(failed)))
    if rules.source_name is not None and rules.source_key is not None:
        source = d.prop(rules.source_key)
        for e in t.events:
            layers = ", ".join(lit(v) for v in e.layers)
            if not t.source_enum:  # no list of layers to be wrong within: a bad value
                out.append(
                    ("enum_violation", rules.source_name, [e.event], f"{source} NOT IN ({layers})")
                )
                continue
            enum = ", ".join(lit(v) for v in t.source_enum)
            wrong = f"{source} IN ({enum}) AND {source} NOT IN ({layers})"
            out.append(("wrong_source", rules.source_name, [e.event], wrong))
    return out


def typed_sql(plan: Plan, d: Dialect, *, strict_system: bool = False) -> str:
    """The "typed" form (HogQL: PostHog's SQL editor and query API), over the last 30 days.

    Typed access (`properties.x`) cannot tell a JSON null from a missing key or a string from a
    number, so the kinds that need JSON types are left out here (the "json" form has them).
    """
    rules = AuditRules(plan, strict_system=strict_system)
    t = PlanTables(rules)
    lit = d.literal
    window = f"timestamp > {d.as_of} - {d.days(30)}"
    known = ", ".join(lit(e) for e in sorted(plan.events))
    system = "" if strict_system else f" AND NOT {d.starts_with('event', lit('$'))}"
    unknown = d.count_if(f"event NOT IN ({known}){system}")
    selects = [
        f"SELECT {lit('unknown_event')} AS kind, event, NULL AS property, "
        f"{unknown} AS count FROM events WHERE {window} GROUP BY event"
    ]
    for kind, prop, events, condition in _typed_checks(d, rules, t):
        selects.append(
            f"SELECT {lit(kind)} AS kind, event, {lit(prop)} AS property, "
            f"{d.count_if(condition)} AS count FROM events WHERE {window} "
            f"AND event IN ({', '.join(lit(e) for e in events)}) GROUP BY event"
        )
    body = "\nUNION ALL\n".join(selects)
    return (
        f"-- trackplan audit ({type(d).__name__}) of {plan.name} {plan.version}: "
        "rows (kind, event, property, count).\n"
        f"-- Left out (need JSON types, several rows or the raw file): {', '.join(TYPED_OMITTED)}.\n"
        f"SELECT kind, event, property, sum(count) AS count FROM (\n{body}\n)\n"
        "WHERE count > 0 GROUP BY kind, event, property ORDER BY kind, event, property\n"
    )
