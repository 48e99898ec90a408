"""The language-neutral view of what an emitter method takes, shared by the Python and TypeScript
targets (typewriter's one small model, asked per language for its pieces).

An event method takes, in this order: the event's plan properties (required first), then the
envelope fields an app may set per call. The tracker itself fills `event`, `timestamp` (unless
given), `source` and `environment`, so those are never arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.plan.model import EnvelopeField, Event, Plan, Property

# Envelope fields the tracker fills itself; never method arguments.
FILLED_BY_TRACKER = frozenset({"event", "timestamp", "source", "environment"})


@dataclass(frozen=True)
class Argument:
    """One value a caller passes for one event; `wire` is its name on the wire."""

    wire: str
    prop: Property
    required: bool
    envelope: bool  # an envelope field rather than one of the event's own properties
    top: bool  # sent beside `properties` in the canonical shape (envelope placement top)
    posthog_name: str | None = None  # the name PostHog stores it under (session_id -> $session_id)

    @property
    def nullable(self) -> bool:
        return self.prop.nullable and not (self.envelope and self.required)


@dataclass(frozen=True)
class EventView:
    event: Event
    arguments: tuple[Argument, ...]

    @property
    def name(self) -> str:
        return self.event.name

    @property
    def required(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.required)

    @property
    def optional(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if not a.required)

    @property
    def explicit(self) -> tuple[Argument, ...]:
        """Arguments spelled out per event: its own properties and the envelope fields it
        requires. The optional envelope fields are shared by every event (`shared_envelope`)."""
        return tuple(a for a in self.arguments if not a.envelope or a.required)

    def explicit_envelope(self, plan: Plan) -> tuple[str, ...]:
        """Optional envelope fields this event spells out: required ones (user_id after login)
        and those the event lists among its own properties (page_path on page views)."""
        optional = {f.name for f in plan.envelope if not f.required}
        return tuple(a.wire for a in self.explicit if a.wire in optional)


def envelope_argument(field: EnvelopeField, event: Event | None = None) -> Argument:
    """An envelope field as an argument, for one event or (event=None) for every event."""
    return Argument(
        wire=field.name,
        prop=field.property,
        required=field.required or (event is not None and field.name in event.envelope_required),
        envelope=True,
        top=field.placement == "top",
        posthog_name=field.posthog_name,
    )


def event_view(plan: Plan, event: Event) -> EventView:
    own = [Argument(ep.name, ep.property, ep.required, False, False) for ep in event.properties]
    taken = {a.wire for a in own}
    envelope = [
        envelope_argument(f, event)
        for f in plan.envelope
        if f.name not in FILLED_BY_TRACKER and f.name not in taken
    ]
    ordered = sorted(own + envelope, key=lambda a: not a.required)  # stable: plan order kept
    return EventView(event, tuple(ordered))


def shared_envelope(plan: Plan, explicit: tuple[str, ...] = ()) -> tuple[Argument, ...]:
    """The optional envelope fields a caller may add to any event, minus those `explicit`."""
    return tuple(
        envelope_argument(f)
        for f in plan.envelope
        if f.name not in FILLED_BY_TRACKER and f.name not in explicit and not f.required
    )


def event_views(plan: Plan) -> tuple[EventView, ...]:
    """Every event's view, sorted by event name."""
    return tuple(event_view(plan, e) for e in sorted(plan.events.values(), key=lambda e: e.name))


def layer_events(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Layer name -> the events it may send, sorted; every plan layer appears (maybe empty)."""
    return {
        layer: tuple(sorted(e.name for e in plan.events_for_layer(layer)))
        for layer in sorted(plan.layers)
    }


def layer_values(plan: Plan) -> tuple[str, ...]:
    return tuple(sorted(plan.layers))


def environment_values(plan: Plan) -> tuple[str, ...]:
    """The environments the envelope allows (its `environment` enum), plan order."""
    field = plan.envelope_field("environment")
    if field is None or field.property.enum is None:
        return ("prod", "staging", "dev")
    return tuple(str(v) for v in field.property.enum)
