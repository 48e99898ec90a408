"""A `TypewriterPlan` -> a `PlanGuess` the infer writer writes, and what did not map (pure).

TRACK rules become events (the newest version of each key, as typewriter builds); their
properties become one dictionary (`merge`); every rule, keyword or name the plan cannot hold is
an `Unmapped` with its reason, printed by the CLI and written as a comment beside the event or
property it concerns. Event names are kept (they are what emitters send), with a permissive
`conventions.event_name` when needed, unless two would get one identifier in the generated code
(or `names="snake"` renames every name off the default rule); a renamed event keeps its old
name under `deprecated_events`, so the audit names the new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from compiler.importers.merge import merge
from compiler.importers.typewriter import TRACK, Rule, TypewriterPlan
from compiler.importers.typewriter_events import (
    RULE_REASONS,
    Unmapped,
    event_notes,
    event_properties,
)
from compiler.infer.guess import (
    DEFAULT_EVENT_NAME,
    DEFAULT_PROPERTY_NAME,
    Category,
    EventGuess,
    PlanGuess,
    PropertyGuess,
    convention,
)
from compiler.naming import camel_case, pascal_case, python_identifier

Names = Literal["keep", "snake"]
LAYERS = {"server": "server", "web": "browser"}
LAYER_TEXT = {
    "server": "Server sources (analytics-node, other server libraries). A typewriter plan does "
    "not say who sends an event: each is in both layers; remove the one that never sends it.",
    "web": "Browser sources (analytics.js). A typewriter plan does not say who sends an event: "
    "each is in both layers; remove the one that never sends it.",
}
CATEGORY = Category("imported", "Imported", "Every event of the imported typewriter plan.")


@dataclass
class Imported:
    guess: PlanGuess
    unmapped: list[Unmapped] = field(default_factory=list)
    source_format: str = ""
    rules: int = 0
    name: str = ""  # the typewriter plan's name


def snake(name: str) -> str:
    """`Order Completed` -> `order_completed`, matching the default event rule (two words)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    words = [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]
    if not words or not words[0][0].isalpha():
        words.insert(0, "event")
    if len(words) == 1:
        words.append("event")
    return "_".join(words)


def _keys(name: str) -> set[str]:
    """What the generated code calls an event: two events with one key collide."""
    return {name.casefold(), pascal_case(name), python_identifier(name), camel_case(name)}


def _name_events(rules: list[Rule], names: Names) -> dict[str, str]:
    """Each rule's key -> its plan name, unique in every generated identifier. Names that need no
    change are placed first, so a renamed event never takes the name of one that kept its own."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    keeps = [r for r in rules if names == "keep" or re.fullmatch(DEFAULT_EVENT_NAME, r.key)]
    for rule in keeps + [r for r in rules if r not in keeps]:
        want = rule.key if rule in keeps and rule.key.isprintable() else snake(rule.key)
        if _keys(want) & taken:
            base, n = snake(want), 2
            while _keys(f"{base}_{n}") & taken:
                n += 1
            want = f"{base}_{n}"
        taken |= _keys(want)
        out[rule.key] = want
    return out


def _newest(rules: list[Rule], unmapped: list[Unmapped]) -> list[Rule]:
    """TRACK rules, the newest version of each key (as typewriter keeps); the rest listed."""
    kept: dict[str, Rule] = {}
    for rule in rules:
        if rule.type != TRACK:
            reason = RULE_REASONS.get(rule.type, "not a TRACK rule")
            unmapped.append(Unmapped(f"{rule.type} rule '{rule.key}'", reason))
            continue
        old = kept.get(rule.key)
        if old is None:
            kept[rule.key] = rule
            continue
        newer, older = (rule, old) if (rule.version or 0) > (old.version or 0) else (old, rule)
        kept[rule.key] = newer
        why = (
            "listed twice with the same version: the first is imported"
            if newer.version == older.version
            else f"not the newest version ({newer.version}, imported); typewriter also builds "
            "the newest only"
        )
        unmapped.append(Unmapped(f"event '{rule.key}' version {older.version}", why))
    return list(kept.values())


def to_plan(plan: TypewriterPlan, names: Names = "keep") -> Imported:
    """The `PlanGuess` for `plan` and everything that did not map (see the module docstring)."""
    unmapped: list[Unmapped] = []
    for key in plan.extras:
        unmapped.append(
            Unmapped(f"rules.{key}", "traits and global rules are not events: not mapped")
        )
    rules = _newest(plan.rules, unmapped)
    renamed = _name_events(rules, names)
    defs: dict[str, list[tuple[str, PropertyGuess]]] = {}
    events: list[EventGuess] = []
    for rule in rules:
        event = renamed[rule.key]
        first = len(unmapped)
        event_notes(rule, event, unmapped)
        required, optional = event_properties(rule, event, unmapped, defs)
        notes = [u.brief() for u in unmapped[first:] if u.event is not None]
        if event != rule.key:
            notes.insert(0, f"typewriter name: {rule.key!r} (renamed: {_why(rule.key, names)})")
        if rule.version is not None:
            notes.insert(0, f"typewriter version {rule.version}")
        described = (
            rule.description.strip() or f"{rule.key} (no description in the typewriter plan)."
        )
        events.append(
            EventGuess(event, 0, sorted(LAYERS), required, optional, notes, description=described)
        )
    props = _dictionary(defs, events, unmapped)
    old_names = _renames(renamed, events, names, unmapped)
    if any(r.version is not None for r in rules):
        unmapped.append(
            Unmapped("plan", "per-event versions: the plan format has none; each is a comment")
        )
    event_rule, prop_rule = _conventions([e.name for e in events], sorted(props), unmapped)
    guess = PlanGuess(
        events,
        props,
        dict(LAYERS),
        {},
        event_rule,
        prop_rule,
        category=CATEGORY,
        layer_text=LAYER_TEXT,
        renamed=old_names,
        names_from="of the typewriter plan",
    )
    return Imported(guess, unmapped, plan.format, len(plan.rules), plan.name.strip())


def _renames(
    renamed: dict[str, str], events: list[EventGuess], names: Names, unmapped: list[Unmapped]
) -> dict[str, str]:
    """Each renamed event listed; old name -> new for `deprecated_events` (unless an event)."""
    kept = {e.name.casefold() for e in events}
    old_names = {o: n for o, n in renamed.items() if o != n and o.casefold() not in kept}
    for old, new in renamed.items():
        if old != new:
            why = _why(old, names) + ("" if old in old_names else "; another event has that name")
            unmapped.append(Unmapped(f"event '{old}'", f"renamed to '{new}' ({why})"))
    return old_names


def _conventions(
    events: list[str], props: list[str], unmapped: list[Unmapped]
) -> tuple[str | None, str | None]:
    """Infer's permissive naming rules where the defaults reject a name kept as sent, listed."""
    event_rule, off_events = convention(events, DEFAULT_EVENT_NAME)
    prop_rule, off_props = convention(props, DEFAULT_PROPERTY_NAME)
    for noun, rule, off, default in (
        ("event", event_rule, off_events, DEFAULT_EVENT_NAME),
        ("property", prop_rule, off_props, DEFAULT_PROPERTY_NAME),
    ):
        if rule:
            shown = ", ".join(repr(n) for n in off[:3]) + (" ..." if len(off) > 3 else "")
            hint = "; --event-names snake renames them instead" if noun == "event" else ""
            why = f"{len(off)} {noun} name(s) break the default rule {default} ({shown}): kept as "
            unmapped.append(Unmapped(f"conventions.{noun}_name", f"{why}sent, rule {rule}{hint}"))
    return event_rule, prop_rule


def _why(old: str, names: Names) -> str:
    if not old.isprintable():
        return "a control character in the name"
    if names == "snake":
        return "--event-names snake"
    return "another event gets the same identifier in the generated code"


def _dictionary(
    defs: dict[str, list[tuple[str, PropertyGuess]]],
    events: list[EventGuess],
    unmapped: list[Unmapped],
) -> dict[str, PropertyGuess]:
    """One property per name; a name equal to another but for case is left out (TP007)."""
    props: dict[str, PropertyGuess] = {}
    folded: dict[str, str] = {}
    for name, pairs in defs.items():  # file order: the first of two case-twins is kept
        if name.casefold() in folded:
            why = f"differs from property '{folded[name.casefold()]}' only in case: left out"
            unmapped.append(Unmapped(f"property '{name}'", why))
            for e in events:
                e.required[:] = [n for n in e.required if n != name]
                e.optional[:] = [n for n in e.optional if n != name]
            continue
        folded[name.casefold()] = name
        prop, notes = merge(name, pairs)
        prop.notes += notes
        unmapped += [Unmapped(f"property '{name}'", n, None, name) for n in notes]
        props[name] = prop
    return dict(sorted(props.items()))
