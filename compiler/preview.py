"""Preview one event as the generated Python package sends it: the message the real
posthog-python client builds (caught by its own `before_send` hook, so nothing leaves the
process) and, when the plan has a Meta destination, what goes to Meta (the Pixel call and the
CAPI server event).

Example values come from the plan: the first enum value, the minimum, or a string that the
property's JSON Schema accepts. The Meta user data are fixed demo values. Works on any
lint-clean plan: the package, layers and envelope fields are the plan's own.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from compiler.docs.examples import example_value as docs_example
from compiler.docs.examples import regex_example
from compiler.naming import python_identifier
from compiler.plan.model import Event, Plan, Property
from compiler.targets import python as python_target
from compiler.targets.event_view import event_view, roles
from compiler.targets.jsonschema import property_schema

DEMO_TIME = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
DEMO_USER = {
    "email": "  Demo.User@Example.com ",
    "client_ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)",
    "event_source_url": "https://www.example.com/checkout/success",
}
DEMO_SESSION = "sess_demo1"
DEMO_CLICK_ID = "IwAR2demoClickId"
NO_META = "the plan has no Meta destination: nothing goes to the Pixel or CAPI"
NOT_MAPPED = "not mapped (or not allowed): nothing goes to the Pixel or CAPI"


class PreviewError(Exception):
    """The preview cannot run (unknown event, package not built, SDK missing)."""


@dataclass(frozen=True)
class Preview:
    event: str
    source: str
    arguments: dict[str, Any]
    posthog: dict[str, Any]
    pixel: tuple[Any, ...] | None
    capi: dict[str, Any] | None
    meta_note: str | None = None  # why nothing goes to Meta, when nothing does


def _string_candidates(prop: Property) -> Iterator[str]:
    if prop.format is not None:  # the schema check below does not test formats
        yield str(docs_example(prop))
    prefix = re.match(r"\^([A-Za-z0-9_]+)", prop.pattern or "")
    if prefix:
        yield prefix.group(1) + "demo1"
    yield from (f"{prop.name}_demo", "USD", "US", "/", "demo")
    yield from (str(v) for v in prop.examples)
    yield str(docs_example(prop))  # formats, and other shapes of pattern
    if prop.pattern:
        yield regex_example(prop.pattern) or ""


def example_value(prop: Property) -> Any:
    """A value `prop`'s JSON Schema accepts; PreviewError when no simple one is found."""
    if prop.enum:
        return prop.enum[0]
    if prop.type in ("integer", "number"):
        low = prop.minimum if prop.minimum is not None else 1
        return int(low) + 1 if prop.type == "integer" else float(low) + 9.0
    if prop.type == "boolean":
        return False
    if prop.type == "array":
        return [prop.items_enum[0]] if prop.items_enum else []
    import jsonschema  # only the preview needs it; keep other commands' start-up light

    schema = property_schema(prop, allow_null=False)
    for candidate in _string_candidates(prop):
        if jsonschema.Draft202012Validator(schema).is_valid(candidate):
            return candidate
    raise PreviewError(f"no example value for property {prop.name} (pattern {prop.pattern})")


def default_event(plan: Plan) -> str:
    """The event the preview shows when none is named: a revenue event Meta also gets, else a
    revenue event, else one mapped to Meta, else the last step of the funnel, else the first
    event by name."""
    revenue = [s.event for s in plan.revenue.events] if plan.revenue else []
    mapped = [m.event for m in plan.meta.mappings] if plan.meta else []
    chain = [s.event for s in reversed(plan.chain) if s.event is not None]
    order = [e for e in revenue if e in mapped] + revenue + mapped + chain + sorted(plan.events)
    return next(e for e in order if e in plan.events)


def _accepts(prop: Property, value: Any) -> bool:
    import jsonschema

    return bool(jsonschema.Draft202012Validator(property_schema(prop)).is_valid(value))


def example_arguments(plan: Plan, event: Event, distinct_id: str) -> dict[str, Any]:
    """Required arguments of the event's emitter method, by Python identifier. The distinct
    and user ids are `distinct_id` when their properties accept it (one person throughout)."""
    args: dict[str, Any] = {}
    names = roles(plan)
    ids = {names.distinct_id, names.user_id}
    view = event_view(plan, event)
    for arg in view.required:
        same = arg.wire in ids and _accepts(arg.prop, distinct_id)
        args[python_identifier(arg.wire)] = distinct_id if same else example_value(arg.prop)
    # Show the envelope at work: the session (PostHog's $session_id) and the ad click (Meta's fbc).
    demo = {names.session_id: DEMO_SESSION}
    if plan.meta is not None:
        demo[plan.meta.click_id_property] = DEMO_CLICK_ID
    for arg in view.optional:
        if arg.wire in demo:
            args[python_identifier(arg.wire)] = demo[arg.wire]
    return args


@contextmanager
def generated_package(generated: Path, package: str) -> Iterator[ModuleType]:
    folder = generated / python_target.OUTPUT_DIR
    if not (folder / package / "__init__.py").is_file():
        raise PreviewError(f"{folder}/ has no {package}: run `trackplan build` first")
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]


def _source(plan: Plan, event: Event) -> str:
    """The layer to send from: posthog-python runs on servers, so a server layer when the event
    has one."""
    servers = [layer for layer in event.layers if plan.layers[layer].runtime != "browser"]
    return (servers or list(event.layers))[0]


def preview(plan: Plan, event_name: str | None, generated: Path) -> Preview:
    """Send `event_name` (None: `default_event`) with example values through the generated
    tracker and a real posthog-python client whose before_send hook keeps the message."""
    event_name = event_name or default_event(plan)
    event = plan.events.get(event_name)
    if event is None:
        raise PreviewError(f"unknown event {event_name!r}")
    try:
        from posthog import Posthog
    except ImportError:
        raise PreviewError("the preview needs posthog-python: pip install posthog") from None
    kept: list[dict[str, Any]] = []

    def keep(message: dict[str, Any]) -> None:
        kept.append(message)

    client = Posthog("phc_demo", host="http://127.0.0.1:9", before_send=keep, sync_mode=True)
    distinct_id = (plan.identity.user_prefix if plan.identity else "") + "demo1"
    arguments = example_arguments(plan, event, distinct_id)
    source = _source(plan, event)
    timestamp = python_identifier(roles(plan).timestamp)
    with generated_package(generated, plan.codegen.python_package) as package:
        tracker = package.Tracker(client=client, source=source)
        method = getattr(tracker, python_identifier(event_name), None)
        if method is None:
            raise PreviewError(f"{generated}/ is older than the plan: run `trackplan build`")
        try:
            event_id = method(**arguments, **{timestamp: DEMO_TIME})
        except (TypeError, ValueError) as exc:  # TrackingViolation is a ValueError
            raise PreviewError(
                f"the package in {generated}/ refused the example {event_name} ({exc}); if the "
                "plan changed since, run `trackplan build`"
            ) from None
        properties = kept[0]["properties"]
        if plan.meta is None:
            return Preview(event_name, source, arguments, kept[0], None, None, NO_META)
        pixel = package.meta.pixel_event(event_name, properties, event_id=event_id, is_first=True)
        capi = package.meta.capi_event(
            event_name,
            properties,
            event_id=event_id,
            event_time=DEMO_TIME,
            is_first=True,
            **DEMO_USER,
        )
    note = NOT_MAPPED if pixel is None else None
    return Preview(event_name, source, arguments, kept[0], pixel, capi, note)
