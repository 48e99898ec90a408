"""One TRACK rule's properties and event-level rules -> plan properties and `Unmapped` (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from compiler.importers.jsonschema_map import map_property
from compiler.importers.typewriter import Rule
from compiler.infer.guess import ENVELOPE, PropertyGuess

RULE_REASONS = {
    "IDENTIFY": "identify traits describe people, not events: the plan has no traits schema",
    "GROUP": "group traits describe accounts, not events: the plan has no traits schema",
    "PAGE": "page calls reach PostHog as $pageview, a system event the plan does not describe",
    "SCREEN": "screen calls reach PostHog as $screen, a system event the plan does not describe",
    "COMMON": "common rules apply to every event: add their properties to the events by hand",
}
OBJECT_REASONS = {
    "additionalProperties": "the audit reports keys the plan does not list as "
    "undocumented_property warnings, whatever this says",
}


@dataclass(frozen=True)
class Unmapped:
    subject: str  # "event 'X'", "event 'X', property 'p'", "IDENTIFY rule 'Y'", "plan"
    reason: str
    event: str | None = None  # the plan event whose comment carries it, if any
    prop: str | None = None  # the dictionary property whose comment carries it, if any

    def brief(self) -> str:
        """The text beside its event: without the event's name."""
        head = f"event '{self.event}'"
        if self.subject == head:
            return self.reason
        return f"{self.subject.removeprefix(head + ', ')}: {self.reason}"

    def text(self) -> str:
        return f"{self.subject}: {self.reason}"


def event_properties(
    rule: Rule,
    event: str,
    unmapped: list[Unmapped],
    defs: dict[str, list[tuple[str, PropertyGuess]]],
) -> tuple[list[str], list[str]]:
    """(required, optional) plan properties of `rule`; each definition added to `defs` under
    its name, with the event; what did not map appended to `unmapped`."""
    required: list[str] = []
    optional: list[str] = []
    for name in rule.required:
        if name not in rule.properties:
            why = "required without a schema (any value must be present): no plan type to give it"
            unmapped.append(Unmapped(f"event '{event}', property '{name}'", why, event))
    for name, schema in rule.properties.items():
        subject = f"event '{event}', property '{name}'"
        was_required = name in rule.required
        if not name.isprintable() or not name:
            why = "an empty name or one with a control character: no plan name rule accepts it"
            unmapped.append(Unmapped(subject, why, event))
            continue
        if name in ENVELOPE:
            why = "the name of a PostHog envelope column (top level, not in properties)"
            unmapped.append(Unmapped(subject, why, event))
            continue
        mapped = map_property(name, schema, f"{rule.where}: property '{name}'")
        if mapped.prop is None:
            mapped.lost[-1] += "; left out" + (", so no longer required" if was_required else "")
            unmapped += [Unmapped(subject, reason, event) for reason in mapped.lost]
            continue
        unmapped += [Unmapped(subject, reason, None, name) for reason in mapped.lost]
        mapped.prop.notes += [f"in {event}: {reason}" for reason in mapped.lost]
        defs.setdefault(name, []).append((event, mapped.prop))
        (required if was_required else optional).append(name)
    return required, optional


def event_notes(rule: Rule, event: str, unmapped: list[Unmapped]) -> None:
    """The event-level rules of `rule` that do not map: context, traits, labels, keywords."""
    for key, value in rule.extras.items():
        if key == "labels":
            shown = (
                ", ".join(f"{k}={v}" for k, v in value.items())
                if isinstance(value, dict)
                else value
            )
            unmapped.append(Unmapped(f"event '{event}'", f"labels ({shown}): not mapped", event))
        else:
            n = len(value.get("properties", {}) or {}) if isinstance(value, dict) else 0
            count = f"{n} propert{'y' if n == 1 else 'ies'}"
            unmapped.append(
                Unmapped(
                    f"event '{event}'",
                    f"{key} rules ({count}): Segment's {key} has no counterpart in a "
                    "PostHog event's properties; not checked",
                    event,
                )
            )
    for key, value in rule.object_keywords.items():
        why = OBJECT_REASONS.get(key, "an event-level JSON Schema rule the plan has no key for")
        shown = json.dumps(value)[:60]
        unmapped.append(Unmapped(f"event '{event}'", f"{key}: {shown}: {why}", event))
