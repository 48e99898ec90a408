"""Render a `PlanGuess` as the plan's YAML files, each guess with its evidence as a comment (pure)."""

from __future__ import annotations

import json
import re

from compiler.infer.guess import (
    DEFAULT_EVENT_NAME,
    DEFAULT_PROPERTY_NAME,
    EventGuess,
    PlanGuess,
    PropertyGuess,
    Thresholds,
)

FILES = ("plan.yaml", "envelope.yaml", "properties.yaml", "events.yaml")
PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
CATEGORY = "observed"
LAYER_TEXT = {
    "web": "Browser events: $lib web / posthog-js.",
    "mobile": "Mobile app events: $lib posthog-ios / -android / -react-native / -flutter.",
    "server": "Server events: posthog-python, posthog-node, another server SDK, or no $lib.",
}


def q(value: str) -> str:
    """A YAML scalar for `value`: plain when safe, else a JSON (double-quoted YAML) string."""
    if PLAIN.match(value) and value.lower() not in RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def comment(text: str, indent: int = 0) -> str:
    return " " * indent + "# " + " ".join(text.split())


def flow(values: list[str]) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def _header(sources: list[str], rows: int, t: Thresholds) -> list[str]:
    shown = ", ".join(sources[:5]) + (f" and {len(sources) - 5} more" if len(sources) > 5 else "")
    return [
        comment(f"Inferred by `trackplan infer` from {rows} rows in {shown}."),
        comment(
            f"Thresholds: enum when a string property has <= {t.enum_max} distinct values on "
            f">= {t.enum_min_rows} rows (--enum-max); required when present on >= "
            f"{t.required_min:.0%} of an event's rows (--required-min)."
        ),
        comment("Each guess has its evidence beside it: review them, then edit freely."),
    ]


def plan_yaml(guess: PlanGuess, name: str, sources: list[str], rows: int, t: Thresholds) -> str:
    out = _header(sources, rows, t)
    described = f"Inferred from {rows} rows of PostHog events; review the guesses."
    out += ["plan:", f"  name: {json.dumps(name, ensure_ascii=False)}", '  version: "0.1.0"']
    out += [f"  description: {json.dumps(described)}", ""]
    if guess.event_name or guess.property_name:
        out.append("conventions:")
        for key, rule, default in (
            ("event_name", guess.event_name, DEFAULT_EVENT_NAME),
            ("property_name", guess.property_name, DEFAULT_PROPERTY_NAME),
        ):
            if rule:
                out.append(comment(f"the default {default} rejects names seen in the export", 2))
                out.append(f"  {key}: {json.dumps(rule)}")
        out.append("")
    out.append(comment("Layers from each event's $lib (unknown or missing: server)."))
    out.append("layers:")
    for layer, runtime in guess.layers.items():
        out += [f"  {q(layer)}:", f"    runtime: {runtime}"]
        out.append(f"    description: {json.dumps(LAYER_TEXT[layer])}")
    out += ["", "categories:", f"  {CATEGORY}:", "    title: Observed"]
    out.append(
        '    description: "Every event seen in the export; split it into your own categories."'
    )
    for note in guess.notes:
        out.append(comment(f"Note: {note}"))
    return "\n".join(out) + "\n"


def envelope_yaml() -> str:
    return """\
# PostHog's own columns: every event carries them (distinct_id and timestamp are required: TP019).
envelope:
  event:
    role: event_name
    placement: top
    required: true
  distinct_id:
    role: distinct_id
    placement: top
    required: true
  timestamp:
    role: timestamp
    placement: top
    required: true

properties:
  event:
    type: string
    description: The event name.
  distinct_id:
    type: string
    description: PostHog's distinct id of the person.
  timestamp:
    type: string
    format: date-time
    description: When the event happened.
"""


def _property(p: PropertyGuess) -> list[str]:
    out = [comment(note, 2) for note in p.notes]
    out += [f"  {q(p.name)}:", f"    type: {p.type}"]
    out.append(f"    description: {json.dumps(f'Observed on {p.rows} rows.')}")
    if p.nullable:
        out.append("    nullable: true")
    if p.enum is not None:
        out.append(f"    enum: {flow(p.enum)}")
    if p.minimum is not None:
        out.append(f"    minimum: {p.minimum}")
    if p.items_type is not None:
        items = f"type: {p.items_type}"
        if p.items_enum is not None:
            items += f", enum: {flow(p.items_enum)}"
        out.append(f"    items: {{{items}}}")
    if p.pii:
        out.append("    pii: true")
    return out


def properties_yaml(guess: PlanGuess) -> str:
    out = [
        comment("Property types from JSON types; `$`-prefixed keys are the SDK's and not listed."),
        "properties:",
    ]
    for p in guess.properties.values():
        out += _property(p)
    if not guess.properties:
        out[-1] = "properties: {}"
    return "\n".join(out) + "\n"


def _event(e: EventGuess) -> list[str]:
    out = [comment(f"{e.rows} rows; {'; '.join(e.notes)}", 2), f"  {q(e.name)}:"]
    out += [f"    category: {CATEGORY}", f"    layers: {flow(e.layers)}"]
    out.append(f"    description: {json.dumps(f'Observed {e.rows} times.')}")
    for key, names in (("required", e.required), ("optional", e.optional)):
        if names:
            out.append(f"    {key}:")
            out += [f"      - {q(n)}  # {e.rates[n]}" for n in names]
    return out


def events_yaml(guess: PlanGuess, t: Thresholds) -> str:
    out = [comment(f"Events, most rows first. Required: present on >= {t.required_min:.0%}.")]
    if guess.system:
        skipped = ", ".join(f"{name} ({n})" for name, n in guess.system.items())
        out.append(comment(f"Skipped PostHog system events: {skipped}"))
    out.append("events:")
    for e in guess.events:
        out += _event(e)
    return "\n".join(out) + "\n"


def render(
    guess: PlanGuess, name: str, sources: list[str], rows: int, t: Thresholds
) -> dict[str, str]:
    """{file name: YAML text} of the inferred plan."""
    return {
        "plan.yaml": plan_yaml(guess, name, sources, rows, t),
        "envelope.yaml": envelope_yaml(),
        "properties.yaml": properties_yaml(guess),
        "events.yaml": events_yaml(guess, t),
    }
