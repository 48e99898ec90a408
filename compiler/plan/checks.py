"""Lint rules that look at the resolved plan as a whole: names, definitions, deprecations."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from compiler.diagnostics import Diagnostic, Location, error, warning
from compiler.naming import pascal_case, python_identifier
from compiler.plan import model as m
from compiler.plan.shape import Sections

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _re2_error(pattern: str) -> str | None:
    """Why RE2 (the audit's one regex dialect) cannot compile `pattern`, or None."""
    import re2  # type: ignore[import-untyped]

    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        return reason.decode() if isinstance(reason, bytes) else str(reason)
    return None


def naming(plan: m.Plan, sections: Sections) -> Iterator[Diagnostic]:
    conventions = sections.values.get("conventions")
    for key, names, code, noun in (
        ("event_name", plan.events.values(), "TP005", "event"),
        ("property_name", plan.properties.values(), "TP006", "property"),
    ):
        pattern = getattr(plan.conventions, key)
        compiled = _compile(pattern)
        if compiled is None:
            yield error(
                "TP009",
                f"conventions.{key} is not a valid regular expression",
                conventions.value_loc(key) if conventions else None,
            )
            continue
        for item in names:
            if not compiled.fullmatch(item.name):
                yield error(
                    code,
                    f"{noun} name '{item.name}' does not follow the naming convention {pattern}",
                    item.location,
                )


def collisions(plan: m.Plan, sections: Sections) -> Iterator[Diagnostic]:
    for noun, items in (("event", plan.events.values()), ("property", plan.properties.values())):
        seen: dict[str, Any] = {}
        ordered: list[Any] = sorted(items, key=lambda i: i.location or Location("", 0, 0))
        for item in ordered:
            folded = item.name.casefold()
            if folded in seen:
                first = seen[folded]
                yield error(
                    "TP007",
                    f"{noun} '{item.name}' differs from {noun} '{first.name}' only in case",
                    item.location,
                )
            else:
                seen[folded] = item
    yield from _generated_name_collisions(plan)
    for name, body, loc in sections.duplicates.get("properties", []):
        first = plan.properties.get(name)
        if first is None:
            continue
        where = (
            f"{first.location.display_path()}:{first.location.line}"
            if first.location
            else "elsewhere"
        )
        if body["type"] != first.type:
            yield error(
                "TP014",
                f"property '{name}' is defined here as {body['type']} and as {first.type} at {where}",
                loc,
            )
        else:
            yield error("TP007", f"property '{name}' is defined twice (first at {where})", loc)


def _generated_name_collisions(plan: m.Plan) -> Iterator[Diagnostic]:
    """Two events the generated code would give one class (`Step2` from `step_2` and `step2`)
    or one Python method (`a__b` and `a_b`). Names that differ only in case are reported above."""
    seen: dict[tuple[str, str], Any] = {}
    ordered = sorted(plan.events.values(), key=lambda e: e.location or Location("", 0, 0))
    for event in ordered:
        for kind, ident in (
            ("class", pascal_case(event.name)),
            ("method", python_identifier(event.name)),
        ):
            first = seen.setdefault((kind, ident), event)
            if first is not event and first.name.casefold() != event.name.casefold():
                yield error(
                    "TP007",
                    f"event '{event.name}' and event '{first.name}' get the same {kind} name "
                    f"'{ident}' in the generated code; rename one",
                    event.location,
                )
                break


def definitions(plan: m.Plan, sections: Sections) -> Iterator[Diagnostic]:
    raw: dict[str, Any] = sections.values.get("properties", {})
    for prop in plan.properties.values():
        body = raw.get(prop.name)
        for key, message in _definition_problems(prop):
            loc = body.value_loc(key) if body is not None and key in body else prop.location
            yield error("TP009", f"property '{prop.name}': {message}", loc)
        if prop.pattern is not None and _compile(prop.pattern) is not None:
            reason = _re2_error(prop.pattern)
            if reason is not None:
                loc = body.value_loc("pattern") if body is not None and "pattern" in body else None
                yield error(
                    "TP020",
                    f"property '{prop.name}': pattern {prop.pattern!r} is not RE2 ({reason}); "
                    "the audit matches patterns with RE2: no lookaround, no backreference",
                    loc or prop.location,
                )


def _definition_problems(p: m.Property) -> Iterator[tuple[str, str]]:
    if p.type not in m.PROPERTY_TYPES:
        yield "type", f"unknown type '{p.type}' (expected one of: {', '.join(m.PROPERTY_TYPES)})"
        return
    numeric, text = p.type in ("integer", "number"), p.type == "string"
    for key, value, allowed in (
        ("minimum", p.minimum, numeric),
        ("maximum", p.maximum, numeric),
        ("min_length", p.min_length, text),
        ("max_length", p.max_length, text),
        ("pattern", p.pattern, text),
        ("format", p.format, text),
    ):
        if value is not None and not allowed:
            yield key, f"{key} does not apply to type {p.type}"
    if p.minimum is not None and p.maximum is not None and p.minimum > p.maximum:
        yield "minimum", f"minimum {p.minimum} is greater than maximum {p.maximum}"
    if p.min_length is not None and p.max_length is not None and p.min_length > p.max_length:
        yield "min_length", "min_length is greater than max_length"
    if p.format is not None and p.format not in m.FORMATS:
        yield "format", f"unknown format '{p.format}' (expected one of: {', '.join(m.FORMATS)})"
    if p.pattern is not None and _compile(p.pattern) is None and _re2_error(p.pattern):
        yield "pattern", f"pattern {p.pattern!r} is not a valid regular expression"
    yield from _enum_problems("enum", p.enum, p.type)
    if p.type == "array" and p.items_type is None:
        yield "type", "an array needs `items` with a type"
    if p.type != "array" and p.items_type is not None:
        yield "items", "items applies only to type array"
    if p.items_type is not None and p.items_type not in m.SCALAR_TYPES:
        yield "items", f"items type must be one of {', '.join(m.SCALAR_TYPES)}"
    if p.replaced_by is not None and not p.deprecated:
        yield "replaced_by", "replaced_by is set but the property is not deprecated"


def _enum_problems(
    key: str, values: tuple[Any, ...] | None, type_: str
) -> Iterator[tuple[str, str]]:
    if values is None:
        return
    if not values:
        yield key, "enum is empty"
    if type_ in _PY_TYPES:
        wrong = [
            v
            for v in values
            if not isinstance(v, _PY_TYPES[type_]) or (isinstance(v, bool) and type_ != "boolean")
        ]
        if wrong:
            yield key, f"enum value {wrong[0]!r} is not of type {type_}"
    if len({repr(v) for v in values}) != len(values):
        yield key, "enum lists a value twice"


def deprecations(plan: m.Plan, sections: Sections) -> Iterator[Diagnostic]:
    raw_events: dict[str, Any] = sections.values.get("events", {})
    for event in plan.events.values():
        body = raw_events.get(event.name)
        for ep in event.properties:
            if not ep.property.deprecated:
                continue
            loc = _list_item_loc(body, ep.name) or event.location
            hint = f"; use '{ep.property.replaced_by}'" if ep.property.replaced_by else ""
            if ep.required:
                yield error(
                    "TP013",
                    f"event '{event.name}' requires deprecated property '{ep.name}'{hint}",
                    loc,
                )
            else:
                yield warning(
                    "TP013",
                    f"event '{event.name}' lists deprecated property '{ep.name}'{hint}",
                    loc,
                )
        if body is not None and body.get("layers") == []:
            yield error(
                "TP009",
                f"event '{event.name}' must allow at least one layer",
                body.value_loc("layers"),
            )
    for field in plan.envelope:
        if field.required and field.property.deprecated:
            yield error(
                "TP013",
                f"envelope requires deprecated property '{field.name}'",
                field.property.location,
            )


def _list_item_loc(body: Any, name: str) -> Location | None:
    if body is None:
        return None
    for key in ("required", "optional"):
        items = body.get(key)
        if items is not None and name in items:
            loc: Location = items.item_loc(items.index(name))
            return loc
    return None


def unused(plan: m.Plan, sections: Sections) -> Iterator[Diagnostic]:
    used = {f.name for f in plan.envelope}
    used |= {p.name for e in plan.events.values() for p in e.properties}
    for prop in plan.properties.values():
        if prop.name in used or (prop.deprecated and prop.replaced_by in used):
            continue
        yield warning(
            "TP018", f"property '{prop.name}' is defined but no event uses it", prop.location
        )


def source_values(plan: m.Plan, sections: Sections) -> Iterator[Diagnostic]:
    """The source role's values must allow every layer: the trackers send the layer's name."""
    field = plan.role("source")
    if field is None or not field.property.enum:
        return
    if not all(isinstance(v, str) for v in field.property.enum):
        return  # a bad enum is reported where it is written (TP009); this would only echo it
    allowed = set(field.property.enum)
    layers: dict[str, Any] = sections.values.get("layers", {})
    for name in plan.layers:
        if name not in allowed:
            values = ", ".join(str(v) for v in field.property.enum)
            loc = layers.get(name)
            yield error(
                "TP009",
                f"layer '{name}' is not a value of '{field.name}' (the source field: {values}); "
                "every event this layer sends would fail its schema",
                getattr(loc, "loc", None) or field.property.location,
            )


RULES: tuple[Callable[[m.Plan, Sections], Iterator[Diagnostic]], ...] = (
    naming,
    collisions,
    definitions,
    deprecations,
    unused,
    source_values,
)


def run_checks(plan: m.Plan, sections: Sections) -> list[Diagnostic]:
    return [diag for rule in RULES for diag in rule(plan, sections)]
