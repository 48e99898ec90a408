"""Copy-ready calls of the generated Python and TypeScript trackers for one event.

The names here follow the codegen target (issue 3): Python `blanklogo_analytics` with one
tracker class per layer (`ServerTracker`, `WorkerTracker`) and keyword-only methods named like
the event; TypeScript `@blanklogo/analytics` with `createTracker(posthog)` (browser) or
`createServerTracker(client, { source })` (posthog-node) and camelCase methods taking one object
keyed by wire names. Adjust them here only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compiler.docs.examples import EXAMPLE_USER, example_value
from compiler.naming import camel_case, pascal_case, python_identifier, ts_property_key
from compiler.plan.model import Event

PYTHON_PACKAGE = "blanklogo_analytics"
TYPESCRIPT_PACKAGE = "@blanklogo/analytics"
PYTHON_LAYERS = ("server", "worker")  # posthog-python runs there; the browser uses TypeScript


@dataclass(frozen=True)
class Snippet:
    language: str  # "python" | "typescript"
    title: str
    code: str


def _python_literal(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "None", True: "True", False: "False"}[value]
    if isinstance(value, list):
        return "[" + ", ".join(_python_literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _arguments(event: Event) -> list[tuple[str, Any]]:
    args: list[tuple[str, Any]] = []
    if "user_id" in event.envelope_required:
        args.append(("user_id", EXAMPLE_USER))
    args.extend((ep.name, example_value(ep.property)) for ep in event.required)
    return args


def python_snippet(event: Event) -> Snippet | None:
    """The Python call, or None for an event only the browser may send."""
    layer = next((layer for layer in event.layers if layer in PYTHON_LAYERS), None)
    if layer is None:
        return None
    tracker = pascal_case(layer) + "Tracker"
    lines = [
        f"from {PYTHON_PACKAGE} import {tracker}",
        "",
        f'tracker = {tracker}(client=posthog_client, environment="prod")',
        f"tracker.{python_identifier(event.name)}(",
        f'    distinct_id="{EXAMPLE_USER}",',
    ]
    lines += [f"    {python_identifier(n)}={_python_literal(v)}," for n, v in _arguments(event)]
    lines.append(")")
    return Snippet("python", f"Python ({layer})", "\n".join(lines))


def typescript_snippet(event: Event) -> Snippet:
    """posthog-js in the browser when the event may come from there, else posthog-node."""
    args = _arguments(event)
    if "web" in event.layers:
        factory, setup, title = "createTracker", "createTracker(posthog)", "TypeScript (browser)"
    else:
        layer = event.layers[0]
        factory, title = "createServerTracker", f"TypeScript ({layer}, posthog-node)"
        setup = f'createServerTracker(posthogNode, {{ source: "{layer}" }})'
        args.insert(0, ("distinct_id", EXAMPLE_USER))
    lines = [
        f'import {{ {factory} }} from "{TYPESCRIPT_PACKAGE}";',
        "",
        f"const tracker = {setup};",
    ]
    if args:
        lines.append(f"tracker.{camel_case(event.name)}({{")
        lines += [f"  {ts_property_key(n)}: {json.dumps(v, ensure_ascii=False)}," for n, v in args]
        lines.append("});")
    else:
        lines.append(f"tracker.{camel_case(event.name)}({{}});")
    return Snippet("typescript", title, "\n".join(lines))


def snippets(event: Event) -> list[Snippet]:
    python = python_snippet(event)
    return [*([python] if python else []), typescript_snippet(event)]
