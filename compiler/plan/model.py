"""The resolved tracking plan: immutable, pure data, no I/O. Targets only ever see this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from compiler.diagnostics import Location

SCALAR_TYPES = ("string", "integer", "number", "boolean")
PROPERTY_TYPES = (*SCALAR_TYPES, "array")
FORMATS = ("date-time", "date", "email", "uri", "uuid")
PLACEMENTS = ("top", "properties")
# Meta's standard events (Pixel and Conversions API).
META_STANDARD_EVENTS = (
    "AddPaymentInfo",
    "AddToCart",
    "AddToWishlist",
    "CompleteRegistration",
    "Contact",
    "CustomizeProduct",
    "Donate",
    "FindLocation",
    "InitiateCheckout",
    "Lead",
    "PageView",
    "Purchase",
    "Schedule",
    "Search",
    "StartTrial",
    "SubmitApplication",
    "Subscribe",
    "ViewContent",
)


def frozen_map(items: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class Property:
    """One entry of the property dictionary: one name, one meaning, one type."""

    name: str
    type: str
    description: str = ""
    nullable: bool = False
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    format: str | None = None
    pattern: str | None = None
    unit: str | None = None
    pii: bool = False
    deprecated: bool = False
    replaced_by: str | None = None
    items_type: str | None = None
    items_enum: tuple[Any, ...] | None = None
    examples: tuple[Any, ...] = ()
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class EventProperty:
    """A property as one event uses it."""

    property: Property
    required: bool

    @property
    def name(self) -> str:
        return self.property.name


@dataclass(frozen=True)
class Event:
    name: str
    category: str
    description: str
    layers: tuple[str, ...]
    stages: tuple[str, ...]
    properties: tuple[EventProperty, ...]  # required first, then optional; plan order
    envelope_required: tuple[str, ...] = ()  # envelope fields this event must carry, non-null
    location: Location | None = field(default=None, compare=False)

    @property
    def required(self) -> tuple[EventProperty, ...]:
        return tuple(p for p in self.properties if p.required)

    @property
    def optional(self) -> tuple[EventProperty, ...]:
        return tuple(p for p in self.properties if not p.required)

    def get(self, name: str) -> EventProperty | None:
        return next((p for p in self.properties if p.name == name), None)


@dataclass(frozen=True)
class EnvelopeField:
    """A field every event carries. `top` fields sit beside `properties` in the canonical shape."""

    property: Property
    placement: str
    required: bool
    description: str = ""
    posthog_name: str | None = None  # the name PostHog stores it under, when different

    @property
    def name(self) -> str:
        return self.property.name


@dataclass(frozen=True)
class DeprecatedEvent:
    name: str
    replaced_by: str
    description: str = ""


@dataclass(frozen=True)
class Category:
    name: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Layer:
    name: str
    description: str = ""


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Milestone:
    name: str
    title: str
    event: str
    first: bool = True
    description: str = ""


@dataclass(frozen=True)
class StateRule:
    """How a state without a single marking event is reached (S10 Retained, S11 Churned)."""

    kind: str  # active_within | inactive_for
    events: tuple[str, ...]
    days: int
    after: str | None = None
    or_events: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class FunnelState:
    id: str  # S0 ... S11
    name: str
    event: str | None = None
    rule: StateRule | None = None
    description: str = ""

    @property
    def index(self) -> int:
        return int(self.id[1:])


@dataclass(frozen=True)
class Transition:
    """P(to | from), written like `S1|S0`, with its default rate."""

    name: str
    to_state: str
    from_state: str
    rate: float
    description: str = ""


@dataclass(frozen=True)
class ChurnHazard:
    base: float
    extra_if_failed_job: float
    extra_if_slow_job: float
    slow_job_share: float = 0.2
    max: float = 0.95
    click_through_rate: float = 0.02
    description: str = ""


@dataclass(frozen=True)
class SequenceRule:
    """`events` need one of each `requires_before` earlier, for the same person or key."""

    name: str
    events: tuple[str, ...]
    requires_before: tuple[str, ...]
    match_on: str  # "person" or a property name such as job_id
    description: str = ""


@dataclass(frozen=True)
class IdentityRule:
    stitch_on: str
    anonymous_prefix: str = "anon_"
    user_prefix: str = "usr_"
    methods: tuple[str, ...] = ("identify", "alias")
    user_id_required_after_stitch: bool = True
    description: str = ""


@dataclass(frozen=True)
class MetaMapping:
    event: str
    meta_event: str
    value_property: str | None = None
    currency_property: str | None = None
    first_only: bool = False
    description: str = ""


@dataclass(frozen=True)
class MetaDestination:
    mappings: tuple[MetaMapping, ...]
    action_source: str = "website"
    description: str = ""

    def for_event(self, event: str) -> MetaMapping | None:
        return next((m for m in self.mappings if m.event == event), None)


@dataclass(frozen=True)
class Conventions:
    event_name: str = r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$"
    property_name: str = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
    sdk_properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    name: str
    version: str
    description: str
    schema_base_uri: str
    conventions: Conventions
    layers: Mapping[str, Layer]
    categories: Mapping[str, Category]
    properties: Mapping[str, Property]
    envelope: tuple[EnvelopeField, ...]
    events: Mapping[str, Event]  # sorted by name
    deprecated_events: Mapping[str, DeprecatedEvent]
    stages: Mapping[str, Stage]
    milestones: Mapping[str, Milestone]
    states: tuple[FunnelState, ...]  # S0..S11 in order
    transitions: tuple[Transition, ...]
    churn_hazard: ChurnHazard | None
    sequence_rules: Mapping[str, SequenceRule]
    identity: IdentityRule | None
    meta: MetaDestination | None

    def events_in(self, category: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events.values() if e.category == category)

    def events_for_layer(self, layer: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events.values() if layer in e.layers)

    def envelope_field(self, name: str) -> EnvelopeField | None:
        return next((f for f in self.envelope if f.name == name), None)

    def deprecated_aliases(self, name: str) -> tuple[Property, ...]:
        """Deprecated properties whose replacement is `name`, sorted by name."""
        found = [p for p in self.properties.values() if p.deprecated and p.replaced_by == name]
        return tuple(sorted(found, key=lambda p: p.name))

    def state(self, state_id: str) -> FunnelState | None:
        return next((s for s in self.states if s.id == state_id), None)
