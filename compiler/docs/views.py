"""View models of the per-event and per-property pages: every string and link decided here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compiler.docs.examples import canonical_example, posthog_example
from compiler.docs.health import EventHealth, Health
from compiler.docs.snippets import Snippet, snippets
from compiler.plan.model import Event, MetaMapping, Plan, Property
from compiler.targets.jsonschema import event_schema


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True)
class PropertyRow:
    name: str
    href: str
    type: str
    required: bool
    constraints: tuple[str, ...]
    description: str
    pii: bool
    replaced_by: Link | None  # set for deprecated properties
    deprecated: bool


@dataclass(frozen=True)
class RuleUse:
    name: str
    description: str
    role: str  # what the rule asks of this event, in words


@dataclass(frozen=True)
class EventPage:
    name: str
    description: str
    category: Link
    trigger: str  # when the event fires, "" when the plan does not say
    owner: str
    version: str  # the event's MAJOR.MINOR.PATCH (1.0.0 when the plan does not say)
    stages: tuple[str, ...]
    layers: tuple[str, ...]
    state: str  # the name of the funnel state the event marks, or ""
    milestone: str
    old_names: tuple[str, ...]
    properties: tuple[PropertyRow, ...]
    envelope: tuple[PropertyRow, ...]
    schema_json: str
    canonical_json: str
    posthog_json: str
    snippets: tuple[Snippet, ...]
    snippet_note: str  # why a language is missing, "" when both are there
    meta: MetaMapping | None
    meta_action_source: str
    rules: tuple[RuleUse, ...]
    health: EventHealth | None


@dataclass(frozen=True)
class PropertyPage:
    name: str
    description: str
    type: str
    constraints: tuple[str, ...]
    nullable: bool
    pii: bool
    replaced_by: Link | None
    deprecated: bool
    aliases: tuple[Link, ...]  # deprecated names that mean this property
    envelope: str  # "top-level field (PostHog: $session_id)", "" when not an envelope field
    used_by: tuple[tuple[Link, bool], ...]  # event, required
    meta_uses: tuple[str, ...]  # "value of Purchase (<event>)"


def pretty_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def type_label(prop: Property) -> str:
    label = f"array of {prop.items_type}" if prop.type == "array" and prop.items_type else prop.type
    return label + (" or null" if prop.nullable else "")


def constraints(prop: Property) -> tuple[str, ...]:
    """Enum, range, length, pattern, format and unit, each as one short phrase."""
    out = []
    values = prop.enum or prop.items_enum
    if values:
        out.append("one of " + ", ".join(json.dumps(v) for v in values))
    low, high = prop.minimum, prop.maximum
    if low is not None and high is not None:
        out.append(f"{_number(low)} to {_number(high)}")
    elif low is not None:
        out.append(f"≥ {_number(low)}")
    elif high is not None:
        out.append(f"≤ {_number(high)}")
    if prop.min_length is not None and prop.max_length is not None:
        out.append(f"length {prop.min_length} to {prop.max_length}")
    elif prop.min_length is not None:
        out.append("non-empty" if prop.min_length == 1 else f"length ≥ {prop.min_length}")
    elif prop.max_length is not None:
        out.append(f"length ≤ {prop.max_length}")
    if prop.pattern:
        out.append(f"matches {prop.pattern}")
    if prop.format:
        out.append(f"format {prop.format}")
    if prop.unit:
        out.append(f"unit: {prop.unit}")
    return tuple(out)


def property_href(root: str, name: str) -> str:
    return f"{root}properties/{name}.html"


def event_href(root: str, name: str) -> str:
    return f"{root}events/{name}.html"


def property_row(root: str, prop: Property, required: bool) -> PropertyRow:
    return PropertyRow(
        name=prop.name,
        href=property_href(root, prop.name),
        type=type_label(prop),
        required=required,
        constraints=constraints(prop),
        description=prop.description,
        pii=prop.pii,
        replaced_by=(
            Link(prop.replaced_by, property_href(root, prop.replaced_by))
            if prop.replaced_by
            else None
        ),
        deprecated=prop.deprecated,
    )


def _rules(plan: Plan, event: Event) -> tuple[RuleUse, ...]:
    uses = []
    for rule in plan.sequence_rules.values():
        key = "the same person" if rule.match_on == "person" else f"the same {rule.match_on}"
        if event.name in rule.events:
            needs = ", ".join(rule.requires_before)
            uses.append(RuleUse(rule.name, rule.description, f"needs {needs} before it, for {key}"))
        if event.name in rule.requires_before:
            later = ", ".join(rule.events)
            uses.append(
                RuleUse(rule.name, rule.description, f"must come before {later}, for {key}")
            )
    return tuple(uses)


def event_page(plan: Plan, event: Event, health: Health | None, root: str = "../") -> EventPage:
    rows = []
    for ep in event.properties:
        rows.append(property_row(root, ep.property, ep.required))
        rows.extend(property_row(root, alias, False) for alias in plan.deprecated_aliases(ep.name))
    envelope = tuple(  # fields the event also lists as its own properties appear above
        property_row(root, f.property, f.required or f.name in event.envelope_required)
        for f in plan.envelope
        if event.get(f.name) is None
    )
    state = next((s for s in plan.states if s.event == event.name), None)
    calls = snippets(plan, event)
    category = plan.categories[event.category]
    return EventPage(
        name=event.name,
        description=event.description,
        category=Link(category.title, f"{root}index.html#category-{category.name}"),
        trigger=event.trigger,
        owner=event.owner,
        version=event.version,
        stages=tuple(plan.stages[s].title if s in plan.stages else s for s in event.stages),
        layers=event.layers,
        state=state.name if state else "",
        milestone=", ".join(m.title for m in plan.milestones.values() if m.event == event.name),
        old_names=tuple(
            d.name for d in plan.deprecated_events.values() if d.replaced_by == event.name
        ),
        properties=tuple(rows),
        envelope=envelope,
        schema_json=pretty_json(event_schema(plan, event)),
        canonical_json=pretty_json(canonical_example(plan, event)),
        posthog_json=pretty_json(posthog_example(plan, event)),
        snippets=tuple(calls),
        snippet_note=(
            ""
            if len(calls) > 1
            else f"Only the browser sends {event.name} (layers: {', '.join(event.layers)}), "
            "so there is no Python call."
        ),
        meta=plan.meta.for_event(event.name) if plan.meta else None,
        meta_action_source=plan.meta.action_source if plan.meta else "",
        rules=_rules(plan, event),
        health=health.for_event(event.name) if health else None,
    )


def property_page(plan: Plan, prop: Property, root: str = "../") -> PropertyPage:
    field = plan.envelope_field(prop.name)
    envelope = ""
    if field:
        where = "top-level field" if field.placement == "top" else "inside `properties`"
        envelope = (
            f"Envelope {where}, {'required' if field.required else 'optional'} on every event"
        )
        if field.posthog_name:
            envelope += f"; PostHog stores it as {field.posthog_name}"
    used = [
        (Link(e.name, event_href(root, e.name)), ep.required)
        for e in plan.events.values()
        for ep in e.properties
        if ep.name == prop.name or (prop.deprecated and ep.name == prop.replaced_by)
    ]
    return PropertyPage(
        name=prop.name,
        description=prop.description,
        type=type_label(prop),
        constraints=constraints(prop),
        nullable=prop.nullable,
        pii=prop.pii,
        replaced_by=(
            Link(prop.replaced_by, property_href(root, prop.replaced_by))
            if prop.replaced_by
            else None
        ),
        deprecated=prop.deprecated,
        aliases=tuple(
            Link(a.name, property_href(root, a.name)) for a in plan.deprecated_aliases(prop.name)
        ),
        envelope=envelope,
        used_by=tuple(used),
        meta_uses=_meta_uses(plan, prop.name),
    )


def _meta_uses(plan: Plan, name: str) -> tuple[str, ...]:
    if plan.meta is None:
        return ()
    return tuple(
        f"{role} of {m.meta_event} ({m.event})"
        for m in plan.meta.mappings
        for role, source in (("value", m.value_property), ("currency", m.currency_property))
        if source == name
    )
