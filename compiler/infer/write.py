"""Render a `PlanGuess` as the plan's YAML files, each guess with its evidence as a comment (pure).

`render` is infer's; `render_plan` is the same writer for any producer of a `PlanGuess` (the
importers), which brings its own header, descriptions, category and notes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from compiler.infer.guess import (
    DEFAULT_EVENT_NAME,
    DEFAULT_PROPERTY_NAME,
    EventGuess,
    PlanGuess,
    PropertyGuess,
    Scalar,
    Thresholds,
)

FILES = ("plan.yaml", "envelope.yaml", "properties.yaml", "events.yaml")
PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
LAYER_TEXT = {
    "web": "Browser events: $lib web / posthog-js.",
    "mobile": "Mobile app events: $lib posthog-ios / -android / -react-native / -flutter.",
    "server": "Server events: posthog-python, posthog-node, another server SDK, or no $lib.",
}


def _printable(text: str) -> str:
    """YAML allows no control character, even quoted: each as a \\u escape."""
    return "".join(c if c.isprintable() else _escape(ord(c)) for c in text)


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def string(value: str) -> str:
    """A double-quoted YAML string (JSON's escapes are YAML's) for any text."""
    return _printable(json.dumps(value, ensure_ascii=False))


def q(value: str) -> str:
    """A YAML scalar for `value`: plain when safe, else a JSON (double-quoted YAML) string."""
    if PLAIN.match(value) and value.lower() not in RESERVED:
        return value
    return string(value)


def comment(text: str, indent: int = 0) -> str:
    return " " * indent + "# " + _printable(" ".join(text.split()))


def number(value: float) -> str:
    """A YAML number: `1e+20` would read back as a string (YAML 1.1 floats need a dot)."""
    if isinstance(value, int) or value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text


def scalar(value: Scalar) -> str:
    if isinstance(value, str):
        return q(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return number(value)


def flow(values: Sequence[Scalar]) -> str:
    return "[" + ", ".join(scalar(v) for v in values) + "]"


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


def plan_yaml(guess: PlanGuess, name: str, header: list[str], described: str) -> str:
    out = list(header)
    out += ["plan:", f"  name: {string(name)}", '  version: "0.1.0"']
    out += [f"  description: {json.dumps(described)}", ""]
    if guess.event_name or guess.property_name:
        out.append("conventions:")
        for key, rule, default in (
            ("event_name", guess.event_name, DEFAULT_EVENT_NAME),
            ("property_name", guess.property_name, DEFAULT_PROPERTY_NAME),
        ):
            if rule:
                out.append(comment(f"the default {default} rejects names {guess.names_from}", 2))
                out.append(f"  {key}: {json.dumps(rule)}")
        out.append("")
    if not guess.layer_text:
        out.append(comment("Layers from each event's $lib (unknown or missing: server)."))
    out.append("layers:")
    for layer, runtime in guess.layers.items():
        out += [f"  {q(layer)}:", f"    runtime: {runtime}"]
        text = guess.layer_text.get(layer) or LAYER_TEXT[layer]
        out.append(f"    description: {json.dumps(text)}")
    category = guess.category
    out += ["", "categories:", f"  {q(category.name)}:", f"    title: {json.dumps(category.title)}"]
    out.append(f"    description: {json.dumps(category.description)}")
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
    described = p.description if p.description is not None else f"Observed on {p.rows} rows."
    out.append(f"    description: {string(described)}")
    if p.nullable:
        out.append("    nullable: true")
    if p.enum is not None:
        out.append(f"    enum: {flow(p.enum)}")
    for key, bound in (("minimum", p.minimum), ("maximum", p.maximum)):
        if bound is not None:
            out.append(f"    {key}: {number(bound)}")
    for key, length in (("min_length", p.min_length), ("max_length", p.max_length)):
        if length is not None:
            out.append(f"    {key}: {length}")
    for key, text in (("pattern", p.pattern), ("format", p.format)):
        if text is not None:
            out.append(f"    {key}: {string(text)}")
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


def _event(e: EventGuess, category: str) -> list[str]:
    if e.description is None:
        out = [comment(f"{e.rows} rows; {'; '.join(e.notes)}", 2)]
        described = f"Observed {e.rows} times."
    else:
        out, described = [comment(note, 2) for note in e.notes], e.description
    out.append(f"  {q(e.name)}:")
    out += [f"    category: {q(category)}", f"    layers: {flow(e.layers)}"]
    out.append(f"    description: {string(described)}")
    for key, names in (("required", e.required), ("optional", e.optional)):
        if names:
            out.append(f"    {key}:")
            out += [
                f"      - {q(n)}" + (f"  # {e.rates[n]}" if n in e.rates else "") for n in names
            ]
    return out


def events_yaml(guess: PlanGuess, header: list[str]) -> str:
    out = list(header)
    out.append("events:")
    for e in guess.events:
        out += _event(e, guess.category.name)
    if guess.renamed:
        out += [
            "",
            comment("The names the source plan used: the audit names the new one."),
            "deprecated_events:",
        ]
        for old, new in guess.renamed.items():
            out += [f"  {q(old)}:", f"    replaced_by: {q(new)}"]
            out.append(f"    description: {string(f'Renamed to {new} on import.')}")
    return "\n".join(out) + "\n"


def render_plan(
    guess: PlanGuess, name: str, header: list[str], described: str, events_header: list[str]
) -> dict[str, str]:
    """{file name: YAML text} of the plan in `guess`, under the producer's header comments."""
    return {
        "plan.yaml": plan_yaml(guess, name, header, described),
        "envelope.yaml": envelope_yaml(),
        "properties.yaml": properties_yaml(guess),
        "events.yaml": events_yaml(guess, events_header),
    }


def render(
    guess: PlanGuess, name: str, sources: list[str], rows: int, t: Thresholds
) -> dict[str, str]:
    """{file name: YAML text} of the inferred plan."""
    events_header = [
        comment(f"Events, most rows first. Required: present on >= {t.required_min:.0%}.")
    ]
    if guess.system:
        skipped = ", ".join(f"{name} ({n})" for name, n in guess.system.items())
        events_header.append(comment(f"Skipped PostHog system events: {skipped}"))
    described = f"Inferred from {rows} rows of PostHog events; review the guesses."
    return render_plan(guess, name, _header(sources, rows, t), described, events_header)
