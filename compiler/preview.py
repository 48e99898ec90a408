"""Preview one event as the generated Python package sends it: the message the real
posthog-python client builds (caught by its own `before_send` hook, so nothing leaves the
process) and what goes to Meta (the Pixel call and the CAPI server event).

Example values come from the plan: the first enum value, the minimum, or a string that the
property's JSON Schema accepts. The Meta user data are fixed demo values.
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

from compiler.naming import python_identifier
from compiler.plan.model import Event, Plan, Property
from compiler.targets import python as python_target
from compiler.targets.event_view import event_view
from compiler.targets.jsonschema import property_schema

DEMO_TIME = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
DEMO_USER = {
    "email": "  Demo.User@Example.com ",
    "client_ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)",
    "event_source_url": "https://blanklogo.app/checkout/success",
}


DEMO_OPTIONAL = {"session_id": "sess_demo1", "fbclid": "IwAR2demoClickId"}


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


def _string_candidates(prop: Property) -> Iterator[str]:
    prefix = re.match(r"\^([A-Za-z0-9_]+)", prop.pattern or "")
    if prefix:
        yield prefix.group(1) + "demo1"
    yield from (f"{prop.name}_demo", "USD", "US", "/", "demo")


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


def example_arguments(plan: Plan, event: Event, distinct_id: str) -> dict[str, Any]:
    """Required arguments of the event's emitter method, by Python identifier."""
    args: dict[str, Any] = {}
    view = event_view(plan, event)
    for arg in view.required:
        value = distinct_id if arg.wire in ("distinct_id", "user_id") else example_value(arg.prop)
        args[python_identifier(arg.wire)] = value
    # Show the envelope at work: the session (PostHog's $session_id) and the ad click (Meta's fbc).
    for arg in view.optional:
        if arg.wire in DEMO_OPTIONAL:
            args[python_identifier(arg.wire)] = DEMO_OPTIONAL[arg.wire]
    return args


@contextmanager
def generated_package(generated: Path) -> Iterator[ModuleType]:
    folder = generated / python_target.OUTPUT_DIR
    if not (folder / python_target.PACKAGE / "__init__.py").is_file():
        raise PreviewError(f"{folder}/ has no {python_target.PACKAGE}: run `trackplan build` first")
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(python_target.PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.startswith(python_target.PACKAGE)]:
            del sys.modules[name]


def _source(event: Event) -> str:
    return next((layer for layer in event.layers if layer != "web"), event.layers[0])


def preview(plan: Plan, event_name: str, generated: Path) -> Preview:
    """Send `event_name` with example values through the generated tracker and a real
    posthog-python client whose before_send hook keeps the message instead of sending it."""
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
    with generated_package(generated) as package:
        tracker = package.Tracker(client=client, source=_source(event))
        event_id = getattr(tracker, python_identifier(event_name))(**arguments, timestamp=DEMO_TIME)
        properties = kept[0]["properties"]
        pixel = package.meta.pixel_event(event_name, properties, event_id=event_id, is_first=True)
        capi = package.meta.capi_event(
            event_name,
            properties,
            event_id=event_id,
            event_time=DEMO_TIME,
            is_first=True,
            **DEMO_USER,
        )
    return Preview(event_name, _source(event), arguments, kept[0], pixel, capi)
