"""JSON Schema target: one Draft 2020-12 schema per event, the envelope, and an index.

Schemas describe the canonical event shape (PRD §10): envelope fields at the top, plan
properties inside `properties`. Policy on extra properties: `$`-prefixed keys (PostHog's own)
and the plan's `sdk_properties` are always allowed; any other key not in the plan is invalid, so
a typo or an undocumented property is caught. Deprecated aliases of an event's properties are
allowed, marked `deprecated: true`, so an old emitter is flagged rather than rejected.
The event's own version is the annotation `x-version` (beside `x-category`); `$id` stays
unversioned, so a `$ref` to an event's schema survives a version bump.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

from compiler.plan.model import EnvelopeField, Event, Plan, Property
from compiler.templating import DEFAULT_SOURCE, generated_note

NAME = "jsonschema"
OUTPUT_DIR = "jsonschema"
DESCRIPTION = "Draft 2020-12 JSON Schemas: one per event, the envelope, and an index"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

_JSON_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
}


def property_schema(prop: Property, *, allow_null: bool | None = None) -> dict[str, Any]:
    """The JSON Schema of one property; `allow_null=False` forbids null even if the plan allows it."""
    nullable = prop.nullable if allow_null is None else allow_null
    schema: dict[str, Any] = {
        "type": [_JSON_TYPES[prop.type], "null"] if nullable else _JSON_TYPES[prop.type]
    }
    if prop.description:
        schema["description"] = prop.description
    if prop.enum is not None:
        schema["enum"] = list(prop.enum) + ([None] if nullable else [])
    for key, value in (
        ("minimum", prop.minimum),
        ("maximum", prop.maximum),
        ("minLength", prop.min_length),
        ("maxLength", prop.max_length),
        ("pattern", prop.pattern),
        ("format", prop.format),
    ):
        if value is not None:
            schema[key] = value
    if prop.type == "array" and prop.items_type:
        items: dict[str, Any] = {"type": _JSON_TYPES[prop.items_type]}
        if prop.items_enum is not None:
            items["enum"] = list(prop.items_enum)
        schema["items"] = items
    if prop.deprecated:
        schema["deprecated"] = True
        if prop.replaced_by:
            schema["x-replaced-by"] = prop.replaced_by
    if prop.unit:
        schema["x-unit"] = prop.unit
    if prop.pii:
        schema["x-pii"] = True
    return schema


def tolerated_patterns(plan: Plan) -> dict[str, Any]:
    """patternProperties for the keys the SDKs add: anything `$`-prefixed and sdk_properties."""
    patterns: dict[str, Any] = {"^\\$": {}}
    if plan.conventions.sdk_properties:
        names = "|".join(re.escape(n) for n in sorted(plan.conventions.sdk_properties))
        patterns[f"^({names})$"] = {}
    return patterns


def _envelope_field_schema(field: EnvelopeField, event: Event | None) -> dict[str, Any]:
    must = event is not None and field.name in event.envelope_required
    schema = property_schema(field.property, allow_null=False if must else None)
    if field.role == "source" and event is not None:
        schema["enum"] = list(event.layers)
    if field.posthog_name:
        schema["x-posthog-name"] = field.posthog_name
    return schema


def _properties_object(plan: Plan, event: Event) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: set[str] = set()
    for field in plan.envelope:
        if field.placement == "properties":
            props[field.name] = _envelope_field_schema(field, event)
            if field.required or field.name in event.envelope_required:
                required.add(field.name)
    for ep in event.properties:
        props[ep.name] = property_schema(ep.property)
        if ep.required:
            required.add(ep.name)
        for alias in plan.deprecated_aliases(ep.name):
            props.setdefault(alias.name, property_schema(alias))
    return {
        "type": "object",
        "properties": props,
        "required": sorted(required),
        "patternProperties": tolerated_patterns(plan),
        "additionalProperties": False,
    }


def schema_id(plan: Plan, relative: str) -> str:
    return plan.schema_base_uri.rstrip("/") + "/" + relative


def event_name_field(plan: Plan) -> str:
    """The top-level key holding the event name: the event_name role's field, else `event`."""
    field = plan.role("event_name")
    return field.name if field is not None else "event"


def event_schema(plan: Plan, event: Event, *, source: str = DEFAULT_SOURCE) -> dict[str, Any]:
    """The schema a canonical `event` must satisfy."""
    top: dict[str, Any] = {}
    name = event_name_field(plan)
    required = {name, "properties"}
    for field in plan.envelope:
        if field.placement != "top":
            continue
        top[field.name] = _envelope_field_schema(field, event)
        if field.required or field.name in event.envelope_required:
            required.add(field.name)
    top[name] = {"const": event.name, "description": "The event name."}
    top["properties"] = _properties_object(plan, event)
    return {
        "$schema": DIALECT,
        "$id": schema_id(plan, f"events/{event.name}.schema.json"),
        "$comment": generated_note(source),
        "title": event.name,
        "description": event.description,
        "type": "object",
        "properties": top,
        "required": sorted(required),
        "additionalProperties": False,
        "x-category": event.category,
        "x-layers": list(event.layers),
        "x-stages": list(event.stages),
        "x-version": event.version,
    }


def envelope_schema(plan: Plan, *, source: str = DEFAULT_SOURCE) -> dict[str, Any]:
    """What every event shares; event-specific properties are left open here."""
    top = {f.name: _envelope_field_schema(f, None) for f in plan.envelope if f.placement == "top"}
    name = event_name_field(plan)
    top[name] = {"type": "string", "enum": sorted(plan.events), "description": "The event name."}
    inner = {
        f.name: _envelope_field_schema(f, None)
        for f in plan.envelope
        if f.placement == "properties"
    }
    top["properties"] = {
        "type": "object",
        "properties": inner,
        "required": sorted(
            f.name for f in plan.envelope if f.placement == "properties" and f.required
        ),
    }
    return {
        "$schema": DIALECT,
        "$id": schema_id(plan, "envelope.schema.json"),
        "$comment": generated_note(source),
        "title": f"{plan.name} event envelope",
        "type": "object",
        "properties": top,
        "required": sorted(
            {name, "properties"}
            | {f.name for f in plan.envelope if f.placement == "top" and f.required}
        ),
    }


def index(plan: Plan, *, source: str = DEFAULT_SOURCE) -> dict[str, Any]:
    return {
        "$comment": generated_note(source),
        "plan": {"name": plan.name, "version": plan.version},
        "envelope": "envelope.schema.json",
        "events": {
            e.name: {
                "schema": f"events/{e.name}.schema.json",
                "$id": schema_id(plan, f"events/{e.name}.schema.json"),
                "category": e.category,
                "layers": list(e.layers),
                "stages": list(e.stages),
                "description": e.description,
                "version": e.version,
            }
            for e in plan.events.values()
        },
        "deprecated_events": {d.name: d.replaced_by for d in plan.deprecated_events.values()},
    }


def dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render(plan: Plan, *, source: str = DEFAULT_SOURCE) -> dict[PurePosixPath, str]:
    """The schemas; `source` is the plan directory their `$comment` names."""
    out = {
        PurePosixPath(OUTPUT_DIR, "events", f"{e.name}.schema.json"): dump(
            event_schema(plan, e, source=source)
        )
        for e in plan.events.values()
    }
    out[PurePosixPath(OUTPUT_DIR, "envelope.schema.json")] = dump(
        envelope_schema(plan, source=source)
    )
    out[PurePosixPath(OUTPUT_DIR, "index.json")] = dump(index(plan, source=source))
    return out
