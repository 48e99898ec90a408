"""Plan, Plan -> changes: what a new plan changes for the emitters and readers of the base.

Pure: no I/O. Each change carries the events whose contract it touches, so each event gets a
suggested version bump. A dictionary property's change touches every event using it in the
new plan (every event, for an envelope field). Locations come from the model: an event's or a
property's own position; an envelope field is placed at its property, a Meta mapping at its
event, a deprecated name at the event replacing it.
"""

from __future__ import annotations

from typing import Any

from compiler.diagnostics import Location
from compiler.diff.model import Change
from compiler.plan.model import Event, MetaDestination, Plan, Property


def compare(base: Plan, new: Plan) -> tuple[Change, ...]:
    changes = [
        *_events(base, new),
        *_dictionary(base, new),
        *_envelope(base, new),
        *_deprecations(base, new),
        *_meta(base, new),
    ]
    return tuple(sorted(changes, key=Change.sort_key))


def event_versions(base: Plan, new: Plan) -> dict[str, tuple[str | None, str | None]]:
    """Each event's own version in the base and in the new plan (None where it is not)."""

    def of(plan: Plan, name: str) -> str | None:
        event = plan.events.get(name)
        return event.version if event else None

    return {n: (of(base, n), of(new, n)) for n in sorted(set(base.events) | set(new.events))}


def _events(base: Plan, new: Plan) -> list[Change]:
    out: list[Change] = []
    for name, old in base.events.items():
        if name in new.events:
            out += _event(old, new.events[name])
            continue
        renamed = new.deprecated_events.get(name)
        if renamed is not None:
            message = f"event '{name}' renamed to '{renamed.replaced_by}'"
            out.append(Change("event_renamed", name, message, (name,), old.location, "base"))
        else:
            message = f"event '{name}' removed"
            out.append(Change("event_removed", name, message, (name,), old.location, "base"))
    for name, event in new.events.items():
        if name not in base.events:
            message = f"event '{name}' added"
            out.append(Change("event_added", name, message, (name,), event.location))
    return out


def _event(old: Event, new: Event) -> list[Change]:
    name, at = new.name, new.location
    out: list[Change] = []

    def add(kind: str, message: str, location: Location | None = at, side: str = "new") -> None:
        out.append(Change(kind, name, f"{name}: {message}", (name,), location, side))

    if old.description != new.description:
        add("description_changed", "description changed")
    if old.trigger != new.trigger:
        add("description_changed", "trigger changed")
    if old.owner != new.owner:
        add("annotation_changed", f"owner {_show(old.owner or None)} -> {_show(new.owner or None)}")
    if old.version != new.version:
        add("version_changed", f"version {old.version} -> {new.version}")
    if old.category != new.category:
        add("annotation_changed", f"category '{old.category}' -> '{new.category}'")
    if old.stages != new.stages:
        add("annotation_changed", f"stages {list(old.stages)} -> {list(new.stages)}")
    for layer in old.layers:
        if layer not in new.layers:
            add("layer_removed", f"layer '{layer}' removed")
    for layer in new.layers:
        if layer not in old.layers:
            add("layer_added", f"layer '{layer}' added")
    for prop in old.properties:
        now = new.get(prop.name)
        if now is None:
            add("property_removed", f"property '{prop.name}' removed", old.location, "base")
        elif prop.required and not now.required:
            add("made_optional", f"property '{prop.name}' made optional")
        elif now.required and not prop.required:
            add("made_required", f"property '{prop.name}' made required")
    for prop in new.properties:
        if old.get(prop.name) is None:
            kind = "required_property_added" if prop.required else "optional_property_added"
            add(kind, f"{'required' if prop.required else 'optional'} '{prop.name}' added")
    for field in new.envelope_required:
        if field not in old.envelope_required:
            add("envelope_made_required", f"envelope field '{field}' made required")
    for field in old.envelope_required:
        if field not in new.envelope_required:
            add("envelope_made_optional", f"envelope field '{field}' no longer required")
    return out


def _users(plan: Plan, prop: str) -> tuple[str, ...]:
    """The events whose contract holds `prop`: all of them for an envelope field."""
    if plan.envelope_field(prop) is not None:
        return tuple(plan.events)
    return tuple(n for n, e in plan.events.items() if e.get(prop) is not None)


def _dictionary(base: Plan, new: Plan) -> list[Change]:
    out: list[Change] = []
    for name, old in base.properties.items():
        prop = new.properties.get(name)
        if prop is None:
            used = _users(base, name)
            kind = "dictionary_property_removed" if used else "dictionary_property_dropped"
            message = f"property '{name}' removed from the dictionary"
            out.append(Change(kind, name, message, used, old.location, "base"))
            continue
        users = _users(new, name)
        for kind, message in property_changes(old, prop):
            out.append(Change(kind, name, f"property '{name}': {message}", users, prop.location))
    for name, prop in new.properties.items():
        if name not in base.properties:
            message = f"property '{name}' added to the dictionary"
            out.append(Change("dictionary_property_added", name, message, (), prop.location))
    return out


def _show(value: Any) -> str:
    return "none" if value is None else repr(value)


def _bound(label: str, old: Any, new: Any, *, lower: bool) -> tuple[str, str] | None:
    """A lower bound (minimum, min_length) narrows when added or raised; an upper, lowered."""
    if old == new:
        return None
    if new is None:
        narrowed = False
    elif old is None:
        narrowed = True
    else:
        narrowed = new > old if lower else new < old
    family = "length" if "length" in label else "range"
    kind = f"{family}_{'narrowed' if narrowed else 'widened'}"
    return kind, f"{label} {_show(old)} -> {_show(new)}"


def _enum(label: str, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None) -> list[Any]:
    if old == new:
        return []
    if old is None:
        return [("enum_value_removed", f"{label} added: only {list(new or ())} allowed")]
    if new is None:
        return [("enum_value_added", f"{label} dropped: any value allowed")]
    out = []
    removed = [v for v in old if v not in new]
    added = [v for v in new if v not in old]
    if removed:
        out.append(("enum_value_removed", f"{label} values removed: {removed}"))
    if added:
        out.append(("enum_value_added", f"{label} values added: {added}"))
    return out


def _constraint(label: str, old: str | None, new: str | None) -> list[tuple[str, str]]:
    """A pattern or format: adding or changing one narrows, dropping it widens."""
    if old == new:
        return []
    kind = f"{label}_removed" if new is None else f"{label}_changed"
    return [(kind, f"{label} {_show(old)} -> {_show(new)}")]


def property_changes(old: Property, new: Property) -> list[tuple[str, str]]:
    """(kind, message) for each way a dictionary property changed."""
    out: list[tuple[str, str]] = []
    if (old.type, old.items_type) != (new.type, new.items_type):
        before = old.type + (f"[{old.items_type}]" if old.items_type else "")
        after = new.type + (f"[{new.items_type}]" if new.items_type else "")
        out.append(("type_changed", f"type {before} -> {after}"))
    out += _enum("enum", old.enum, new.enum)
    out += _enum("items enum", old.items_enum, new.items_enum)
    for label, lower in (
        ("minimum", True),
        ("maximum", False),
        ("min_length", True),
        ("max_length", False),
    ):
        found = _bound(label, getattr(old, label), getattr(new, label), lower=lower)
        if found:
            out.append(found)
    out += _constraint("pattern", old.pattern, new.pattern)
    out += _constraint("format", old.format, new.format)
    if old.nullable and not new.nullable:
        out.append(("made_non_nullable", "no longer nullable"))
    elif new.nullable and not old.nullable:
        out.append(("made_nullable", "made nullable"))
    if new.deprecated and not old.deprecated:
        out.append(("deprecation_added", f"deprecated (replaced by {_show(new.replaced_by)})"))
    if old.description != new.description:
        out.append(("description_changed", "description changed"))
    for label in ("unit", "pii", "examples", "replaced_by"):
        if getattr(old, label) != getattr(new, label):
            before, after = _show(getattr(old, label)), _show(getattr(new, label))
            out.append(("annotation_changed", f"{label} {before} -> {after}"))
    return out


def _envelope(base: Plan, new: Plan) -> list[Change]:
    out: list[Change] = []
    everyone = tuple(new.events)
    for old in base.envelope:
        now = new.envelope_field(old.name)
        subject = f"envelope.{old.name}"
        if now is None:
            message = f"envelope field '{old.name}' removed"
            at = old.property.location
            out.append(Change("envelope_field_removed", subject, message, everyone, at, "base"))
        elif now.required != old.required:
            kind = "envelope_made_required" if now.required else "envelope_made_optional"
            state = "required" if now.required else "optional"
            message = f"envelope field '{old.name}' made {state}"
            out.append(Change(kind, subject, message, everyone, now.property.location))
        elif (now.placement, now.posthog_name, now.role) != (
            old.placement,
            old.posthog_name,
            old.role,
        ):
            message = f"envelope field '{old.name}': placement, PostHog name or role changed"
            out.append(
                Change("envelope_field_changed", subject, message, everyone, now.property.location)
            )
    for now in new.envelope:
        if base.envelope_field(now.name) is None:
            kind = "envelope_made_required" if now.required else "envelope_field_added"
            message = f"{'required' if now.required else 'optional'} envelope field added"
            message = f"{message} '{now.name}'"
            at = now.property.location
            out.append(Change(kind, f"envelope.{now.name}", message, everyone, at))
    return out


def _deprecations(base: Plan, new: Plan) -> list[Change]:
    out: list[Change] = []
    for name, dep in new.deprecated_events.items():
        if name in base.deprecated_events or name in base.events:
            continue  # a rename is reported as one
        target = new.events.get(dep.replaced_by)
        message = f"event name '{name}' deprecated, replaced by '{dep.replaced_by}'"
        at = target.location if target else None
        out.append(Change("deprecation_added", name, message, (), at))
    return out


def _meta(base: Plan, new: Plan) -> list[Change]:
    old_meta = base.meta or MetaDestination(())
    new_meta = new.meta or MetaDestination(())
    out: list[Change] = []

    def where(plan: Plan, event: str) -> Location | None:
        found = plan.events.get(event)
        return found.location if found else None

    for old in old_meta.mappings:
        now = new_meta.for_event(old.event)
        subject = f"meta.{old.event}"
        if now is None:
            message = f"Meta mapping {old.event} -> {old.meta_event} removed"
            at = where(base, old.event)
            out.append(Change("meta_mapping_removed", subject, message, (old.event,), at, "base"))
            continue
        fields = ("meta_event", "value_property", "currency_property", "first_only")
        differ = [f for f in fields if getattr(old, f) != getattr(now, f)]
        if differ:
            detail = ", ".join(
                f"{f} {_show(getattr(old, f))} -> {_show(getattr(now, f))}" for f in differ
            )
            message = f"Meta mapping of {old.event} changed: {detail}"
            at = where(new, old.event)
            out.append(Change("meta_mapping_changed", subject, message, (old.event,), at))
        if old.description != now.description:
            message = f"Meta mapping of {old.event}: description changed"
            at = where(new, old.event)
            out.append(Change("description_changed", subject, message, (old.event,), at))
    for now in new_meta.mappings:
        if old_meta.for_event(now.event) is None:
            message = f"Meta mapping {now.event} -> {now.meta_event} added"
            at = where(new, now.event)
            out.append(Change("meta_mapping_added", f"meta.{now.event}", message, (now.event,), at))
    settings = ("action_source", "consent_property", "click_id_property")
    if base.meta and new.meta:
        differ = [s for s in settings if getattr(base.meta, s) != getattr(new.meta, s)]
        if differ:
            message = f"Meta destination changed: {', '.join(differ)}"
            out.append(Change("meta_mapping_changed", "meta", message, tuple(new.events)))
    return out
