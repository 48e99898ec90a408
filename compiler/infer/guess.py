"""From a `Profile` to the plan's guesses, each with its evidence in words (pure, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from compiler.infer.profile import EventProfile, Profile, PropertyProfile
from compiler.plan.model import Conventions

ENVELOPE = ("event", "distinct_id", "timestamp")  # PostHog's columns, never in `properties`
DEFAULT_EVENT_NAME = Conventions.event_name
DEFAULT_PROPERTY_NAME = Conventions.property_name
# Ever more permissive name rules: the first every seen name matches is written.
LADDER = (
    r"^[a-z][a-z0-9_]*$",
    r"^[A-Za-z][A-Za-z0-9_]*$",
    r"^[A-Za-z][A-Za-z0-9_ .:/-]*$",
    r"^.+$",
)
TYPES = {
    "VARCHAR": "string",
    "BIGINT": "integer",
    "UBIGINT": "integer",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "ARRAY": "array",
}
# $lib -> (layer, runtime). posthog-js sends "web"; anything unknown is a server SDK.
WEB_LIBS = ("web", "posthog-js", "posthog-js-lite")
MOBILE_LIBS = ("posthog-ios", "posthog-android", "posthog-react-native", "posthog-flutter")
RUNTIMES = {"web": "browser", "mobile": "browser", "server": "server"}
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Thresholds:
    enum_max: int = 12  # at most this many distinct strings make an enum
    enum_min_rows: int = 20  # ... seen on at least this many rows
    required_min: float = 1.0  # present on at least this share of an event's rows: required


@dataclass
class PropertyGuess:
    name: str
    type: str
    rows: int
    nullable: bool = False
    enum: Sequence[Scalar] | None = None
    minimum: float | None = None
    items_type: str | None = None
    items_enum: Sequence[Scalar] | None = None
    pii: bool = False
    notes: list[str] = field(default_factory=list)
    # Set by importers, which know more than an export shows; None: not written / "Observed on".
    description: str | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None


@dataclass
class EventGuess:
    name: str
    rows: int
    layers: list[str]
    required: list[str]
    optional: list[str]
    notes: list[str] = field(default_factory=list)
    rates: dict[str, str] = field(default_factory=dict)  # property -> "1249/2000 (62.5%)"
    description: str | None = None  # an importer's; None: "Observed N times" and the row count


@dataclass(frozen=True)
class Category:
    name: str
    title: str
    description: str


OBSERVED = Category(
    "observed", "Observed", "Every event seen in the export; split it into your own categories."
)


@dataclass
class PlanGuess:
    events: list[EventGuess]
    properties: dict[str, PropertyGuess]
    layers: dict[str, str]  # name -> runtime
    system: dict[str, int]
    event_name: str | None  # a permissive convention, when the default rejects a seen name
    property_name: str | None
    notes: list[str] = field(default_factory=list)
    category: Category = OBSERVED
    # Set by importers: layer -> description (infer's own when empty), old event name -> new,
    # and where the names a convention must accept come from.
    layer_text: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    names_from: str = "seen in the export"


def layer_of(lib: str) -> str:
    if lib in WEB_LIBS:
        return "web"
    if lib in MOBILE_LIBS:
        return "mobile"
    return "server"


def convention(names: list[str], default: str) -> tuple[str | None, list[str]]:
    """None when the default rule accepts every name; else the first rule of the ladder that
    does, and the names the default rejects."""
    rejected = [n for n in names if not re.fullmatch(default, n)]
    if not rejected:
        return None, []
    return next(p for p in LADDER if all(re.fullmatch(p, n) for n in names)), rejected


def _scalar(types: dict[str, int], fractional: int, label: str) -> tuple[str, list[str]]:
    """The plan type of values with these json_types (NULL excluded), and why."""
    seen = {t: n for t, n in types.items() if t != "NULL"}
    kinds = {TYPES.get(t, "object") for t in seen}
    shown = ", ".join(f"{TYPES.get(t, t.lower())} {n}" for t, n in seen.items())
    if not seen:
        return "string", ["only nulls seen: typed string, a guess to confirm"]
    if kinds <= {"integer", "number"}:
        if "number" not in kinds:
            return "integer", [f"all {sum(seen.values())} {label} are JSON integers"]
        if fractional:
            return "number", [f"{fractional} of {sum(seen.values())} {label} have a fraction"]
        return "number", [
            f"all {sum(seen.values())} {label} are whole, but {seen.get('DOUBLE', 0)} are "
            "written as decimals (12.0): number"
        ]
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind != "object":
            return kind, [f"all {sum(seen.values())} {label} are {kind}s"]
    wrong = sum(n for t, n in seen.items() if t != "VARCHAR")
    return "string", [
        f"MIXED TYPES ({shown}): left as string; the audit reports the {wrong} non-string "
        "value(s) as type_mismatch until the emitters agree"
    ]


def _enum(
    values: list[tuple[str, int]] | None, distinct: int, rows: int, t: Thresholds
) -> tuple[list[str] | None, str]:
    if values is None or not values:
        return None, f"{distinct} distinct values > enum max {t.enum_max}: no enum"
    if rows < t.enum_min_rows:
        return None, f"{len(values)} distinct values but {rows} rows < {t.enum_min_rows}: no enum"
    shown = ", ".join(f"{v} {n}" for v, n in values)
    return sorted(v for v, _ in values), (
        f"enum: {len(values)} distinct values <= {t.enum_max} over {rows} rows ({shown})"
    )


def guess_property(p: PropertyProfile, t: Thresholds) -> PropertyGuess:
    kind, notes = _scalar(p.types, p.fractional, "values")
    guess = PropertyGuess(p.name, kind, p.rows, notes=notes)
    if p.nulls:
        guess.nullable = True
        guess.notes.append(f"nullable: {p.nulls} of {p.rows} values are null")
    if p.emails or p.phones:
        guess.pii = True
        guess.notes.append(
            f"pii: {p.emails} email-shaped and {p.phones} phone-shaped values (the audit's "
            "pii_leak patterns)"
        )
    if kind == "string" and not guess.pii and len(p.types.keys() - {"NULL"}) == 1:
        strings = p.types.get("VARCHAR", 0)
        guess.enum, note = _enum(p.values, p.distinct, strings, t)
        guess.notes.append(note)
    if kind in ("integer", "number") and p.minimum is not None and p.maximum is not None:
        lo, hi = _num(p.minimum), _num(p.maximum)
        if p.minimum >= 0:
            guess.minimum = 0
            guess.notes.append(f"observed {lo}..{hi}: minimum 0 (no negative value); no maximum")
        else:
            guess.notes.append(f"observed {lo}..{hi}: no bound written (negatives seen)")
    if kind == "array":
        items = sum(p.item_types.values())
        if not items:
            guess.items_type = "string"
            guess.notes.append("items: none seen in any array: string, a guess to confirm")
        else:
            guess.items_type, item_notes = _scalar(p.item_types, 0, "items")
            guess.notes.extend(item_notes)
            if guess.items_type == "string" and set(p.item_types) == {"VARCHAR"}:
                strings = p.item_types["VARCHAR"]
                guess.items_enum, note = _enum(p.item_values, p.item_distinct, strings, t)
                guess.notes.append("items " + note)
    return guess


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def guess_event(e: EventProfile, properties: dict[str, PropertyGuess], t: Thresholds) -> EventGuess:
    layers = sorted({layer_of(lib) for lib in e.libs}) or ["server"]
    libs = ", ".join(f"{lib or '(none)'} {n}" for lib, n in e.libs.items())
    guess = EventGuess(e.name, e.rows, layers, [], [], [f"layers from $lib: {libs}"])
    for name, n in sorted(e.presence.items()):
        if name not in properties:
            continue
        rate = n / e.rows
        guess.rates[name] = f"{n}/{e.rows} ({rate:.1%})"
        (guess.required if rate >= t.required_min else guess.optional).append(name)
    return guess


def guess_plan(profile: Profile, t: Thresholds) -> PlanGuess:
    notes = []
    props = {}
    for name, p in sorted(profile.properties.items()):
        if name in ENVELOPE:
            notes.append(f"property '{name}' skipped: the name of an envelope column")
            continue
        props[name] = guess_property(p, t)
    events = [guess_event(e, props, t) for e in profile.events.values()]
    used = sorted({layer for e in events for layer in e.layers})
    event_name, bad_events = convention([e.name for e in events], DEFAULT_EVENT_NAME)
    property_name, bad_props = convention(sorted(props), DEFAULT_PROPERTY_NAME)
    if bad_events:
        notes.append(f"event names off the default convention: {', '.join(bad_events[:10])}")
    if bad_props:
        notes.append(f"property names off the default convention: {', '.join(bad_props[:10])}")
    for k in profile.system_only_pii:
        notes.append(
            f"'{k}' holds email/phone-shaped values on $-events only: not listed (no plan event "
            "uses it), so the audit reports it as pii_leak"
        )
    return PlanGuess(
        events,
        props,
        {layer: RUNTIMES[layer] for layer in used},
        dict(profile.system),
        event_name,
        property_name,
        notes,
    )
