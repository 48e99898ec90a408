"""`python -m compiler.serve.demo --url URL`: good and bad events into a running `trackplan
serve`, through the generated Python tracker and a raw posthog-python client, then its counts.

Everything comes from the plan: the events are those of the plan a server-side tracker may send
whose documented example the plan's own rules call clean (no cross-row rule reads them), with
the example values the doc site shows. The bad ones are the same events broken: a value off its
enum sent through the tracker with `on_violation="log"` (it warns and sends anyway), a required
property left out with an undocumented one added, and a misspelt event name, sent raw.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import urllib.request
from pathlib import Path
from typing import Any

import click

from compiler.audit.rules import AuditRules
from compiler.cli.common import InputError, plan_option, read_plan
from compiler.docs.examples import example_user, example_value, posthog_example
from compiler.naming import pascal_case, python_identifier
from compiler.plan.model import Event, Plan
from compiler.serve.validate import LiveValidator


def demo_events(plan: Plan, count: int = 2) -> list[tuple[Event, str]]:
    """Up to `count` (event, server layer) whose example the plan calls clean on its own."""
    rules = AuditRules(plan)
    servers = [name for name, layer in plan.layers.items() if layer.runtime != "browser"]
    checker = LiveValidator(plan)
    out = []
    # Events with an enum among their required properties first: they show the most.
    ranked = sorted(
        plan.events.values(),
        key=lambda e: (not any(ep.property.enum for ep in e.required), not e.required, e.name),
    )
    for event in ranked:
        layer = next((name for name in event.layers if name in servers), None)
        if layer is None or event.name in rules.cross_row_events:
            continue
        example = {**posthog_example(plan, event), "distinct_id": example_user(plan)}
        if not checker.check(example).findings:
            out.append((event, layer))
        if len(out) == count:
            break
    return out


def _arguments(plan: Plan, event: Event) -> dict[str, Any]:
    args: dict[str, Any] = {}
    distinct, user = plan.role("distinct_id"), plan.role("user_id")
    args[python_identifier(distinct.name if distinct else "distinct_id")] = example_user(plan)
    if user is not None and user.name in event.envelope_required:
        args[python_identifier(user.name)] = example_user(plan)
    for ep in event.required:
        args[python_identifier(ep.name)] = example_value(ep.property)
    return args


def _tracker(plan: Plan, package_dir: Path, layer: str, client: Any, policy: str) -> Any:
    name = plan.codegen.python_package
    if not (package_dir / name / "__init__.py").is_file():
        raise InputError(f"no generated package {name} in {package_dir}: run trackplan build")
    sys.path.insert(0, str(package_dir))
    module = importlib.import_module(name)
    options: dict[str, Any] = {"on_violation": policy}
    if plan.codegen.default_environment is not None:
        options["environment"] = plan.codegen.default_environment
    return getattr(module, pascal_case(layer) + "Tracker")(client, **options)


def send(plan: Plan, url: str, package_dir: Path) -> list[str]:
    """Send the demo's events; returns one line per event saying what was sent and how."""
    from posthog import Posthog

    client = Posthog("phc_demo", host=url, sync_mode=True)
    chosen = demo_events(plan)
    if not chosen:
        raise InputError("no server-side event of this plan has a clean example to send")
    said = []
    for event, layer in chosen:
        tracker = _tracker(plan, package_dir, layer, client, "raise")
        getattr(tracker, python_identifier(event.name))(**_arguments(plan, event))
        said.append(f"good  {event.name} via the generated {layer} tracker")
    event, layer = chosen[0]
    wrong = next((ep for ep in event.required if ep.property.enum), None)
    if wrong is not None:
        logging.getLogger().setLevel(logging.ERROR)  # the tracker's own warning: shown below
        tracker = _tracker(plan, package_dir, layer, client, "log")
        args = {**_arguments(plan, event), python_identifier(wrong.name): "not_in_the_plan"}
        getattr(tracker, python_identifier(event.name))(**args)
        said.append(f"bad   {event.name} via the tracker (on_violation=log), {wrong.name} off enum")
    example = posthog_example(plan, event)
    props = dict(example["properties"])
    props["not_a_planned_property"] = "x"
    broken = "an undocumented property"
    if event.required:
        props.pop(event.required[0].name, None)
        broken = f"without {event.required[0].name}, with " + broken
    client.capture(event.name, distinct_id=example_user(plan), properties=props)
    said.append(f"bad   {event.name} raw, {broken}")
    client.capture(event.name[:-1], distinct_id=example_user(plan), properties=props)
    said.append(f"bad   {event.name[:-1]} raw: an event name the plan does not have")
    client.shutdown()
    return said


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@click.command()
@plan_option
@click.option("--url", required=True, help="The running `trackplan serve`.")
@click.option(
    "--package-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("generated/python"),
    show_default=True,
    help="Where the generated Python package is (`trackplan build`).",
)
def main(plan_dir: Path, url: str, package_dir: Path) -> None:
    """Send a few good and bad events to a running `trackplan serve` and print its counts."""
    result = read_plan(plan_dir)
    if result.errors:
        raise InputError(f"the plan in {plan_dir} has errors; run trackplan lint")
    for line in send(result.plan, url.rstrip("/"), package_dir):
        click.echo("  sent " + line)
    for event in _get(url.rstrip("/") + "/trackplan/bad"):
        for finding in event["findings"]:
            click.echo(f"  {event['event']}: {finding['kind']}: {finding['message']}")
    click.echo("GET /trackplan/all -> " + json.dumps(_get(url.rstrip("/") + "/trackplan/all")))


if __name__ == "__main__":
    main()
