"""TypeScript target: the npm package named by the plan's `codegen` section (e.g.
@shopfast/analytics), in generated/typescript/.

One camelCase method per event on per-layer tracker types, so `createTracker(posthog)` (a layer
whose runtime is the browser, posthog-js) only has that layer's events and
`createServerTracker(client, {source})` (posthog-node) only the server layer's. Properties keep
their wire names. A runtime validation mode for development builds reports violations to an
`onViolation` hook, and with a Meta destination the browser tracker fires the Pixel beside the
PostHog capture. Envelope fields are filled and read by role, under the plan's names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from compiler.naming import camel_case, pascal_case, ts_property_key
from compiler.plan.model import Plan, Property
from compiler.targets import event_view as ev
from compiler.targets.jsonschema import property_schema
from compiler.targets.meta_view import meta_view
from compiler.templating import DEFAULT_SOURCE, environment, generated_note

NAME = "typescript"
OUTPUT_DIR = "typescript"
DESCRIPTION = "npm package (named in the plan's codegen): typed trackers on posthog-js/-node"
# Envelope roles passed per call beside the properties; the browser SDK owns both itself.
CONTEXT_ROLES = ("distinct_id", "session_id")

_SCALARS = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}
_RULE_KEYS = ("enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "format")


@dataclass(frozen=True)
class TsField:
    key: str
    wire: str
    type: str
    optional: bool
    description: str


@dataclass(frozen=True)
class TsEvent:
    name: str
    method: str
    interface: str
    description: str
    version: str
    fields: tuple[TsField, ...]


@dataclass(frozen=True)
class TsLayer:
    name: str
    interface: str
    browser: bool
    events: tuple[TsEvent, ...]


def ts_type(prop: Property) -> str:
    if prop.enum is not None:
        return " | ".join(_literal(v) for v in prop.enum)
    if prop.type == "array":
        if prop.items_enum:
            return "Array<" + " | ".join(_literal(v) for v in prop.items_enum) + ">"
        return f"Array<{_SCALARS.get(prop.items_type or '', 'unknown')}>"
    return _SCALARS[prop.type]


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _field(arg: ev.Argument) -> TsField:
    type_ = ts_type(arg.prop) + (" | null" if arg.nullable else "")
    return TsField(
        ts_property_key(arg.wire), arg.wire, type_, not arg.required, arg.prop.description
    )


def context_fields(plan: Plan) -> tuple[str, ...]:
    """The names of the fields a server caller passes beside the properties (distinct id,
    session id): posthog-js owns both in the browser."""
    return tuple(f.name for f in plan.envelope if f.role in CONTEXT_ROLES)


def ts_event(view: ev.EventView, context: tuple[str, ...]) -> TsEvent:
    return TsEvent(
        name=view.name,
        method=camel_case(view.name),
        interface=pascal_case(view.name) + "Properties",
        description=view.event.description,
        version=view.event.version,
        fields=tuple(_field(a) for a in view.explicit if a.wire not in context),
    )


def rule(prop: Property, nullable: bool) -> dict[str, Any]:
    """The runtime check of one value, from the same JSON Schema the audit uses."""
    schema = property_schema(prop, allow_null=nullable)
    out: dict[str, Any] = {"type": prop.type, "nullable": nullable}
    out.update({k: schema[k] for k in _RULE_KEYS if k in schema})
    if "enum" in out:
        out["enum"] = [v for v in out["enum"] if v is not None]
    if prop.type == "array" and "items" in schema:
        out["items"] = schema["items"]
    return out


def rules(views: tuple[ev.EventView, ...], context: tuple[str, ...]) -> dict[str, Any]:
    """Per event: required keys and the rules of the keys it spells out (the optional envelope
    fields' rules are shared, in ENVELOPE_RULES)."""
    return {
        v.name: {
            # the distinct and session ids are the caller's context (or posthog-js's)
            "required": sorted(a.wire for a in v.required if a.wire not in context),
            "properties": {a.wire: rule(a.prop, a.nullable) for a in v.explicit},
        }
        for v in views
    }


def ts_layers(plan: Plan, events: dict[str, TsEvent]) -> tuple[TsLayer, ...]:
    return tuple(
        TsLayer(
            layer,
            pascal_case(layer) + "Tracker",
            plan.layers[layer].runtime == "browser",
            tuple(events[e] for e in names),
        )
        for layer, names in ev.layer_events(plan).items()
    )


def render(plan: Plan, *, source: str = DEFAULT_SOURCE) -> dict[PurePosixPath, str]:
    """The package's files; `source` is the plan directory the headers name."""
    views = ev.event_views(plan)
    context_names = context_fields(plan)
    events = {v.name: ts_event(v, context_names) for v in views}
    layers = ts_layers(plan, events)
    roles = ev.roles(plan)
    context = {
        "generated": generated_note(source),
        "plan": plan,
        "package": plan.codegen.npm_package,
        "events": list(events.values()),
        "layers": layers,
        "browser_layers": [layer for layer in layers if layer.browser],
        "server_layers": [layer for layer in layers if not layer.browser],
        "roles": roles,
        "default_environment": plan.codegen.default_environment,
        "context_fields": [
            _field(ev.envelope_argument(f)) for f in plan.envelope if f.name in context_names
        ],
        "call_keys": sorted(
            n for n in (*context_names, roles.timestamp, roles.event_id) if n is not None
        ),
        "posthog_names": {f.name: f.posthog_name for f in plan.envelope if f.posthog_name},
        "rules": rules(views, context_names),
        "envelope_fields": [
            _field(a) for a in ev.shared_envelope(plan) if a.wire not in context_names
        ],
        "envelope_rules": {a.wire: rule(a.prop, a.nullable) for a in ev.shared_envelope(plan)},
        "layer_events": ev.layer_events(plan),
        "methods": {e.name: e.method for e in events.values()},
        "versions": {e.name: e.version for e in events.values()},
        "identity": plan.identity,
        "meta": meta_view(plan) if plan.meta is not None else None,
        "python_package": plan.codegen.python_package,
    }
    env = environment()
    root = PurePosixPath(OUTPUT_DIR)
    files = {
        "package.json": "package.json.j2",
        "tsconfig.json": "tsconfig.json.j2",
        "README.md": "README.md.j2",
        "src/index.ts": "index.ts.j2",
        "src/events.ts": "events.ts.j2",
        "src/plan.ts": "plan.ts.j2",
        "src/validate.ts": "validate.ts.j2",
        "src/runtime.ts": "runtime.ts.j2",
        "src/trackers.ts": "trackers.ts.j2",
    }
    if plan.meta is not None:
        files["src/meta.ts"] = "meta.ts.j2"
    return {
        root / path: env.get_template(f"typescript/{template}").render(context)
        for path, template in sorted(files.items())
    }
