"""The language-neutral view of what an emitter method takes, shared by the Python and TypeScript
targets (typewriter's one small model, asked per language for its pieces).

An event method takes, in this order: the event's plan properties (required first), then the
envelope fields an app may set per call. The tracker itself fills the fields with the roles
event_name, timestamp (unless given), source (its layer) and environment, when the plan has
them, so those are never arguments. Field names always come from the plan (`Roles`).
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.plan.model import EnvelopeField, Event, Plan, Property

# Envelope roles the tracker fills itself; their fields are never method arguments.
FILLED_ROLES = frozenset({"event_name", "timestamp", "source", "environment"})


@dataclass(frozen=True)
class Roles:
    """The plan's envelope field names by role, as the generated runtimes use them: None when
    the plan has no field with that role (lint requires distinct_id and timestamp)."""

    distinct_id: str
    timestamp: str
    event_name: str | None = None
    event_id: str | None = None
    source: str | None = None
    environment: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    environments: tuple[str, ...] | None = None  # the environment field's enum, if it has one

    @property
    def capture_arguments(self) -> tuple[str, ...]:
        """Fields PostHog's capture() takes beside the properties: never sent inside them."""
        return tuple(sorted(n for n in (self.distinct_id, self.timestamp, self.event_id) if n))


def roles(plan: Plan) -> Roles:
    def name(role: str) -> str | None:
        field = plan.role(role)
        return field.name if field is not None else None

    distinct_id, timestamp = name("distinct_id"), name("timestamp")
    if distinct_id is None or timestamp is None:
        raise ValueError("the plan's envelope needs distinct_id and timestamp roles (TP019)")
    environment = plan.role("environment")
    enum = environment.property.enum if environment is not None else None
    return Roles(
        distinct_id=distinct_id,
        timestamp=timestamp,
        event_name=name("event_name"),
        event_id=name("event_id"),
        source=name("source"),
        environment=name("environment"),
        user_id=name("user_id"),
        session_id=name("session_id"),
        environments=tuple(str(v) for v in enum if v is not None) if enum else None,
    )


def filled_by_tracker(plan: Plan) -> frozenset[str]:
    """The envelope fields the tracker fills itself, by their names in this plan."""
    return frozenset(f.name for f in plan.envelope if f.role in FILLED_ROLES)


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
        optional = {f.name for f in plan.envelope if not envelope_argument(f).required}
        return tuple(a.wire for a in self.explicit if a.wire in optional)


def envelope_argument(field: EnvelopeField, event: Event | None = None) -> Argument:
    """An envelope field as an argument, for one event or (event=None) for every event. The
    distinct id is always required: every capture needs one."""
    return Argument(
        wire=field.name,
        prop=field.property,
        required=field.required
        or field.role == "distinct_id"
        or (event is not None and field.name in event.envelope_required),
        envelope=True,
        top=field.placement == "top",
        posthog_name=field.posthog_name,
    )


def event_view(plan: Plan, event: Event) -> EventView:
    own = [Argument(ep.name, ep.property, ep.required, False, False) for ep in event.properties]
    taken = {a.wire for a in own} | filled_by_tracker(plan)
    envelope = [envelope_argument(f, event) for f in plan.envelope if f.name not in taken]
    ordered = sorted(own + envelope, key=lambda a: not a.required)  # stable: plan order kept
    return EventView(event, tuple(ordered))


def shared_envelope(plan: Plan, explicit: tuple[str, ...] = ()) -> tuple[Argument, ...]:
    """The optional envelope fields a caller may add to any event, minus those `explicit`."""
    skip = filled_by_tracker(plan) | set(explicit)
    return tuple(
        envelope_argument(f)
        for f in plan.envelope
        if f.name not in skip and not envelope_argument(f).required
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


def server_layer(plan: Plan) -> str:
    """The layer examples use for a server-side tracker: the first server layer, by name."""
    servers = sorted(n for n, layer in plan.layers.items() if layer.runtime != "browser")
    return (servers or sorted(plan.layers))[0]
