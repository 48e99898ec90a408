"""Valid example payloads for an event, in the canonical §10 shape and in PostHog's shape.

Values come from a property's `examples` when the plan gives some, else from its constraints
(enum, format, pattern, range), so each example satisfies the event's JSON Schema (tests check).
"""

from __future__ import annotations

import re
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from compiler.plan.model import Event, IdentityRule, Plan, Property
from compiler.targets.jsonschema import event_name_field

# The columns PostHog stores by envelope role (its own names, whatever the plan calls the
# field); every other envelope field travels inside `properties`.
POSTHOG_COLUMNS = {
    "event_id": "uuid",
    "event_name": "event",
    "distinct_id": "distinct_id",
    "timestamp": "timestamp",
}
EXAMPLE_ID = "12345"  # after the plan's user prefix
_FORMATS = {
    "date-time": "2026-01-12T05:12:34.123Z",
    "date": "2026-01-12",
    "email": "jane@example.com",
    "uri": "https://www.example.com/",
    "uuid": "0194a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
}
# Readable strings tried against a pattern before falling back to one built from it.
_FRIENDLY = ("USD", "US", "/app", "1920x1080")
_CLASS_SAMPLE = {"A-Z": "A", "a-z": "a", "0-9": "1", "A-Za-z0-9_-": "abc123"}


def _from_pattern(prop: Property, pattern: str) -> str:
    for text in _FRIENDLY:
        if re.search(pattern, text):
            return text
    literal = re.match(r"\^([A-Za-z0-9_/-]*)", pattern)
    prefix = literal.group(1) if literal else ""
    for text in (prefix + "12345", prefix + "abc123", prefix):
        if re.search(pattern, text):
            return text
    return regex_example(pattern) or prefix or prop.name


class _NoSample(Exception):
    pass


_CATEGORIES = {
    sre_c.CATEGORY_DIGIT: r"\d",
    sre_c.CATEGORY_NOT_DIGIT: r"\D",
    sre_c.CATEGORY_WORD: r"\w",
    sre_c.CATEGORY_NOT_WORD: r"\W",
    sre_c.CATEGORY_SPACE: r"\s",
    sre_c.CATEGORY_NOT_SPACE: r"\S",
}
_CANDIDATES = "a0A_-.x1Z/ "


def _in_class(char: str, items: list[tuple[Any, Any]]) -> bool:
    negate = bool(items) and items[0][0] == sre_c.NEGATE
    hit = False
    for op, arg in items[int(negate) :]:
        if op == sre_c.LITERAL:
            hit = hit or char == chr(arg)
        elif op == sre_c.RANGE:
            hit = hit or arg[0] <= ord(char) <= arg[1]
        elif op == sre_c.CATEGORY and arg in _CATEGORIES:
            hit = hit or re.fullmatch(_CATEGORIES[arg], char) is not None
        else:
            raise _NoSample(op)
    return hit != negate


def _class_char(items: list[tuple[Any, Any]]) -> str:
    own: list[str] = [chr(a) for op, a in items if op == sre_c.LITERAL]
    own += [chr(a[0]) for op, a in items if op == sre_c.RANGE]
    found = next((c for c in [*own, *_CANDIDATES] if _in_class(c, items)), None)
    if found is None:
        raise _NoSample("class")
    return str(found)


def _sample(items: list[tuple[Any, Any]]) -> str:
    out = []
    for op, arg in items:
        if op == sre_c.LITERAL:
            out.append(chr(arg))
        elif op in (sre_c.NOT_LITERAL, sre_c.IN):
            cls = [(sre_c.NEGATE, None), (sre_c.LITERAL, arg)] if op == sre_c.NOT_LITERAL else arg
            out.append(_class_char(list(cls)))
        elif op == sre_c.ANY:
            out.append("a")
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            out.append(_sample(list(arg[2])) * arg[0])
        elif op == sre_c.SUBPATTERN:
            out.append(_sample(list(arg[3])))
        elif op == sre_c.BRANCH:
            out.append(_sample(list(arg[1][0])))
        elif op == sre_c.CATEGORY:
            out.append(_class_char([(op, arg)]))
        elif op != sre_c.AT:
            raise _NoSample(op)
    return "".join(out)


def regex_example(pattern: str) -> str | None:
    """A short text `pattern` matches (each choice the simplest: a class's first member, a
    repeat's fewest, a branch's first), or None when it uses what this cannot follow."""
    try:
        text = _sample(list(sre_parse.parse(pattern)))
    except (re.error, _NoSample, IndexError):
        return None
    return text if re.search(pattern, text) else None


def _string(prop: Property) -> str:
    if prop.format in _FORMATS:
        return _FORMATS[prop.format]
    if prop.pattern:
        return _from_pattern(prop, prop.pattern)
    stem = prop.name[:-3] if prop.name.endswith("_id") else prop.name
    text = f"{stem}_123" if prop.name.endswith("_id") else "example"
    if prop.max_length is not None:
        text = text[: prop.max_length]
    return text.ljust(prop.min_length or 0, "x")


def _number(prop: Property) -> float | int:
    low = prop.minimum if prop.minimum is not None else 0
    high = prop.maximum
    if high is not None and high - low <= 1:
        value: float = low + (high - low) * 0.9
    else:
        value = low + 9.99 if high is None else min(low + 9.99, high)
    return round(value, 2) if prop.type == "number" else int(value)


def example_value(prop: Property) -> Any:
    """One valid value for `prop` (never null)."""
    if prop.examples:
        return prop.examples[0]
    if prop.enum:
        return next(v for v in prop.enum if v is not None)
    if prop.type == "string":
        return _string(prop)
    if prop.type in ("integer", "number"):
        return _number(prop)
    if prop.type == "boolean":
        return True
    if prop.type == "array":
        if prop.items_enum:
            return [prop.items_enum[0]]
        return [{"integer": 1, "number": 1.5, "boolean": True}.get(prop.items_type or "", "a")]
    return None


def _envelope_value(plan: Plan, event: Event, name: str, prop: Property) -> Any:
    field = plan.envelope_field(name)
    role = field.role if field is not None else None
    if role == "event_name":
        return event.name
    if role == "source":
        return event.layers[0]
    if role in ("distinct_id", "user_id"):
        anonymous = _identity(plan).anonymous_prefix + "9b2f4c"
        return example_user(plan) if role == "user_id" or event.envelope_required else anonymous
    return example_value(prop)


def _identity(plan: Plan) -> IdentityRule:
    """The plan's identity rule, or the model's default prefixes when it has none."""
    return plan.identity or IdentityRule(stitch_on="")


def example_user(plan: Plan) -> str:
    """A signed-in user's id, with the plan's user prefix."""
    return _identity(plan).user_prefix + EXAMPLE_ID


def _shown_envelope(plan: Plan, event: Event) -> list[str]:
    """Envelope fields in an example: the required ones, plus the event and session ids when
    the plan has them."""
    return [
        f.name
        for f in plan.envelope
        if f.required or f.name in event.envelope_required or f.role in ("event_id", "session_id")
    ]


def canonical_example(plan: Plan, event: Event) -> dict[str, Any]:
    """The event as PRD §10 shapes it: envelope on top, required plan properties inside."""
    top: dict[str, Any] = {}
    inner: dict[str, Any] = {}
    for name in _shown_envelope(plan, event):
        field = plan.envelope_field(name)
        assert field is not None
        value = _envelope_value(plan, event, name, field.property)
        (top if field.placement == "top" else inner)[name] = value
    top.setdefault(event_name_field(plan), event.name)
    for ep in event.required:
        inner[ep.name] = example_value(ep.property)
    top["properties"] = inner
    return top


def posthog_example(plan: Plan, event: Event) -> dict[str, Any]:
    """The same event as PostHog stores it: columns on top, every other field in `properties`."""
    canonical = canonical_example(plan, event)
    columns = {f.name: POSTHOG_COLUMNS[f.role] for f in plan.envelope if f.role in POSTHOG_COLUMNS}
    columns.setdefault(event_name_field(plan), "event")  # canonical_example names the event
    top: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    for key, value in canonical.items():
        if key == "properties":
            continue
        if key in columns:
            top[columns[key]] = value
            continue
        field = plan.envelope_field(key)
        moved[field.posthog_name if field and field.posthog_name else key] = value
    top["properties"] = {**canonical["properties"], **moved}
    return top
