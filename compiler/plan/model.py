"""The resolved tracking plan: immutable, pure data, no I/O. Targets only ever see this."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from compiler.diagnostics import Location
from compiler.plan.model_analytics import Churn, Codegen, Forecast, Hazard, Revenue
from compiler.plan.model_models import Models

SCALAR_TYPES = ("string", "integer", "number", "boolean")
PROPERTY_TYPES = (*SCALAR_TYPES, "array")
FORMATS = ("date-time", "date", "email", "uri", "uuid")
PLACEMENTS = ("top", "properties")
DEFAULT_EVENT_VERSION = "1.0.0"  # an event without `version`
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

    @builtins.property
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
    trigger: str = ""  # when the event fires, in words ("" when the plan does not say)
    owner: str = ""  # the team that owns the event
    version: str = DEFAULT_EVENT_VERSION  # the event's own MAJOR.MINOR.PATCH
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
    role: str | None = None  # what the runtimes use it for (model_analytics.ENVELOPE_ROLES)

    @builtins.property
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
    runtime: str = "server"  # browser | server: which SDK its tracker sends through


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
    """How a state without a single marking event is reached (for example Retained, Churned)."""

    kind: str  # active_within | inactive_for
    events: tuple[str, ...]
    days: int
    after: str | None = None
    or_events: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class FunnelState:
    id: str  # any identifier the plan chooses
    name: str
    event: str | None = None
    rule: StateRule | None = None
    description: str = ""
    index: int = 0  # position in the plan's state list: chain states first, in plan order


@dataclass(frozen=True)
class Transition:
    """P(to | from), written like `S1|S0` (`TO|FROM`), with its default rate."""

    name: str
    to_state: str
    from_state: str
    rate: float | None  # None: the plan gives no default; only `fit` can supply it
    description: str = ""
    alias: str | None = None  # a short name for --set, e.g. p_purchase


@dataclass(frozen=True)
class SequenceRule:
    """`events` need one of each `requires_before` earlier, for the same person or key."""

    name: str
    events: tuple[str, ...]
    requires_before: tuple[str, ...]
    match_on: str  # "person", or a key property the events share (an order id, ...)
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
    # A boolean property that, when false on an event, keeps it from Meta (ads consent).
    consent_property: str | None = None
    # The property holding Meta's click id (the fbclid URL parameter), sent as fbc.
    click_id_property: str = "fbclid"

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
    codegen: Codegen
    layers: Mapping[str, Layer]
    categories: Mapping[str, Category]
    properties: Mapping[str, Property]
    envelope: tuple[EnvelopeField, ...]
    events: Mapping[str, Event]  # sorted by name
    deprecated_events: Mapping[str, DeprecatedEvent]
    stages: Mapping[str, Stage]
    milestones: Mapping[str, Milestone]
    states: tuple[FunnelState, ...]  # the chain (states with an event) in order, then rule states
    transitions: tuple[Transition, ...]
    forecast: Forecast | None
    churn: Churn | None
    revenue: Revenue | None
    hazard: Hazard | None
    sequence_rules: Mapping[str, SequenceRule]
    identity: IdentityRule | None
    meta: MetaDestination | None
    synth_profile: str | None = None  # a package in the plan directory, for `trackplan synth`
    models: Models | None = None  # predictive models (plan section `models`)

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

    @property
    def chain(self) -> tuple[FunnelState, ...]:
        """The states marked by one event, in funnel order."""
        return tuple(s for s in self.states if s.event is not None)

    def transition(self, to_state: str, from_state: str) -> Transition | None:
        return next(
            (t for t in self.transitions if (t.to_state, t.from_state) == (to_state, from_state)),
            None,
        )

    def role(self, role: str) -> EnvelopeField | None:
        """The envelope field that plays `role` (distinct_id, timestamp, source, ...), if any."""
        return next((f for f in self.envelope if f.role == role), None)

    def browser_layers(self) -> tuple[str, ...]:
        return tuple(n for n, layer in self.layers.items() if layer.runtime == "browser")
