"""Copy-ready calls of the generated Python and TypeScript trackers for one event.

The names here follow the codegen targets: the Python package the plan's `codegen` section names,
with one tracker class per layer (`<Layer>Tracker`) and keyword-only methods named like the
event; the npm package it names, with `createTracker(posthog)` for a layer whose runtime is the
browser (posthog-js) or `createServerTracker(client, { source })` (posthog-node) and camelCase
methods taking one object keyed by wire names. Adjust them here only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compiler.docs.examples import example_user, example_value
from compiler.naming import camel_case, pascal_case, python_identifier, ts_property_key
from compiler.plan.model import Event, Plan


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


def _arguments(plan: Plan, event: Event) -> list[tuple[str, Any]]:
    args: list[tuple[str, Any]] = []
    user = plan.role("user_id")
    if user is not None and user.name in event.envelope_required:
        args.append((user.name, example_user(plan)))
    args.extend((ep.name, example_value(ep.property)) for ep in event.required)
    return args


def _distinct_id(plan: Plan) -> str:
    field = plan.role("distinct_id")
    return field.name if field is not None else "distinct_id"


def python_snippet(plan: Plan, event: Event) -> Snippet | None:
    """The Python call, or None for an event only a browser layer may send."""
    servers = [n for n, layer in plan.layers.items() if layer.runtime != "browser"]
    layer = next((layer for layer in event.layers if layer in servers), None)
    if layer is None:
        return None
    tracker = pascal_case(layer) + "Tracker"
    default = plan.codegen.default_environment
    options = "" if default is None else f", environment={json.dumps(default)}"
    lines = [
        f"from {plan.codegen.python_package} import {tracker}",
        "",
        f"tracker = {tracker}(client=posthog_client{options})",
        f"tracker.{python_identifier(event.name)}(",
        f'    {python_identifier(_distinct_id(plan))}="{example_user(plan)}",',
    ]
    lines += [
        f"    {python_identifier(n)}={_python_literal(v)}," for n, v in _arguments(plan, event)
    ]
    lines.append(")")
    return Snippet("python", f"Python ({layer})", "\n".join(lines))


def typescript_snippet(plan: Plan, event: Event) -> Snippet:
    """posthog-js in the browser when the event may come from there, else posthog-node."""
    args = _arguments(plan, event)
    browsers = plan.browser_layers()
    browser = next((layer for layer in event.layers if layer in browsers), None)
    if browser is not None:
        factory, title = "createTracker", "TypeScript (browser)"
        several = len(browsers) > 1
        setup = (
            f'createTracker(posthog, {{ source: "{browser}" }})'
            if several
            else "createTracker(posthog)"
        )
    else:
        layer = event.layers[0]
        factory, title = "createServerTracker", f"TypeScript ({layer}, posthog-node)"
        setup = f'createServerTracker(posthogNode, {{ source: "{layer}" }})'
        args.insert(0, (_distinct_id(plan), example_user(plan)))
    lines = [
        f'import {{ {factory} }} from "{plan.codegen.npm_package}";',
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


def snippets(plan: Plan, event: Event) -> list[Snippet]:
    python = python_snippet(plan, event)
    return [*([python] if python else []), typescript_snippet(plan, event)]
