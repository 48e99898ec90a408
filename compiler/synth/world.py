"""What the generic engine reads from the plan and the simulation config, once per run.

`Params` (params.py) are the numbers: transition rates and the churn hazard. `World` adds the
plan's structure: the chain, the rule states the engine models (each `active_within` state, the
hazard, and any other `inactive_for` state with a rate), the sequence rules by event, and the
revenue and currency properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.funnel.queries import population_state
from compiler.plan.model import EnvelopeField, FunnelState, Plan, Property, SequenceRule
from compiler.plan.model_analytics import ENVELOPE_ROLES
from compiler.simulation.model import SimCovariate
from compiler.synth.params import Params
from compiler.synth.timeline import Envelope
from compiler.synth.values import Values


@dataclass(frozen=True)
class Retention:
    """An active_within state: reached `after`, then one of `events` within `days`."""

    state: FunnelState
    after: int  # chain index
    days: int
    events: frozenset[str]
    rate: float


@dataclass(frozen=True)
class Quiet:
    """Churn after an anchor: no `activity` within `window_days` (the hazard, or an
    inactive_for state with a rate, which then has no covariates)."""

    state: FunnelState
    at_risk: int  # chain index
    anchor: int  # chain index (the window starts here when reached, else at at_risk)
    window_days: int
    base: float
    max: float
    covariates: tuple[SimCovariate, ...]
    activity: frozenset[str]  # who does not churn sends one of these within the window
    silent: frozenset[str]  # who churns sends none of these after the anchor (activity + rule's)
    exits: frozenset[str]  # an exit in the window counts as churn (a cancel); churners may send
    no_exit: frozenset[str]  # or_events and cancel events: never sent by people who stay


@dataclass(frozen=True)
class Ingredient:
    """One property of an event, as the emitter draws it."""

    name: str
    prop: Property
    required: bool
    key: bool  # a sequence rule matches this event on it: taken from earlier keys when one fits
    currency: bool  # holds the currency of a revenue source: one per person
    money: bool  # the value of a revenue source


@dataclass
class World:
    plan: Plan
    envelope: Envelope
    values: Values = field(default_factory=Values)
    chain: tuple[FunnelState, ...] = ()
    rates: tuple[float, ...] = ()  # rates[k] = P(chain[k] | chain[k-1]); rates[0] = 1
    retention: tuple[Retention, ...] = ()
    quiet: tuple[Quiet, ...] = ()
    person_rules: dict[str, list[SequenceRule]] = field(default_factory=dict)
    keyed_rules: dict[str, list[SequenceRule]] = field(default_factory=dict)
    marks: dict[str, tuple[int, ...]] = field(default_factory=dict)  # event -> chain indexes
    sprinkle: tuple[str, ...] = ()  # every plan event, sorted: what sprinkles draw from
    key_properties: dict[str, set[str]] = field(default_factory=dict)  # event -> its keys
    money: dict[str, str] = field(default_factory=dict)  # event -> its value property
    currency: frozenset[str] = frozenset()  # properties holding a currency code

    recipes: dict[str, tuple[Ingredient, ...]] = field(default_factory=dict)
    roles: dict[str, EnvelopeField | None] = field(default_factory=dict)  # role -> its field

    def recipe(self, event: str) -> tuple[Ingredient, ...]:
        """The properties the emitter may send with `event` (deprecated optional ones never)."""
        found = self.recipes.get(event)
        if found is None:
            keyed = {rule.match_on for rule in self.keyed_rules.get(event, ())}
            found = self.recipes[event] = tuple(
                Ingredient(
                    ep.name,
                    ep.property,
                    ep.required,
                    ep.name in keyed,
                    ep.name in self.currency,
                    self.money.get(event) == ep.name,
                )
                for ep in self.plan.events[event].properties
                if ep.required or not ep.property.deprecated
            )
        return found

    @property
    def horizon_days(self) -> int:
        spans = [r.days for r in self.retention] + [q.window_days for q in self.quiet]
        return max(spans, default=30)


class MissingRate(ValueError):
    pass


def build_world(plan: Plan, params: Params) -> World:
    chain = plan.chain  # may be empty: then people only send the plan's events at random
    index = {s.id: k for k, s in enumerate(chain)}
    rates = [1.0] if chain else []
    for prev, state in zip(chain, chain[1:], strict=False):
        rate = params.rate(state.id, prev.id)
        if rate is None:
            raise MissingRate(f"no rate for {state.id}|{prev.id}: give it in the plan or a config")
        rates.append(rate)
    world = World(plan, Envelope(plan), chain=chain, rates=tuple(rates))
    world.roles = {role: plan.role(role) for role in ENVELOPE_ROLES}
    for k, state in enumerate(chain):
        world.marks[state.event or ""] = (*world.marks.get(state.event or "", ()), k)
    world.sprinkle = tuple(sorted(plan.events))
    if chain:
        world.retention = tuple(_retention(plan, params, index))
        world.quiet = tuple(_quiet(plan, params, index))
    for rule in plan.sequence_rules.values():
        target = world.person_rules if rule.match_on == "person" else world.keyed_rules
        for event in rule.events:
            target.setdefault(event, []).append(rule)
    subs = plan.churn.subscriptions if plan.churn else None
    if subs is not None and subs.key not in {
        r.match_on for r in world.keyed_rules.get(subs.canceled, [])
    }:
        implied = SequenceRule("_subscription", (subs.canceled,), (subs.started,), subs.key)
        world.keyed_rules.setdefault(subs.canceled, []).append(implied)
    for rules in world.keyed_rules.values():
        for rule in rules:
            for event in (*rule.events, *rule.requires_before):
                world.key_properties.setdefault(event, set()).add(rule.match_on)
    if plan.revenue is not None:
        for source in (*plan.revenue.events, *plan.revenue.refunds):
            world.money[source.event] = source.value
        world.currency = frozenset(
            s.currency for s in (*plan.revenue.events, *plan.revenue.refunds) if s.currency
        )
    return world


def _population(plan: Plan, state: FunnelState, index: dict[str, int]) -> int:
    """The chain index a rule state is judged after (as the funnel queries do)."""
    found = population_state(plan, state)
    return index[found.id] if found is not None else 0


def _retention(plan: Plan, params: Params, index: dict[str, int]) -> list[Retention]:
    out = []
    for state in plan.states:
        if state.rule is None or state.rule.kind != "active_within":
            continue
        after = _population(plan, state, index)
        rate = params.rate(state.id, plan.chain[after].id)
        if rate is not None:
            out.append(Retention(state, after, state.rule.days, frozenset(state.rule.events), rate))
    return out


def _quiet(plan: Plan, params: Params, index: dict[str, int]) -> list[Quiet]:
    """The hazard's state (its definitions as the funnel's hazard cells), and each other
    inactive_for state with a rate (as the funnel's rule states: after its population state,
    active = its events or the population state's event, exits = its or_events)."""
    out = []
    hazard = params.hazard
    churn = plan.churn
    cancels = frozenset(churn.cancel_events) if churn else frozenset()
    for state in plan.states:
        rule = state.rule
        if rule is None or rule.kind != "inactive_for":
            continue
        events, or_events = frozenset(rule.events), frozenset(rule.or_events)
        if hazard is not None and hazard.state == state.id and hazard.at_risk in index:
            at_risk = index[hazard.at_risk]
            anchor = index.get(hazard.anchor or hazard.at_risk, at_risk)
            activity = frozenset(churn.activity_events) if churn else events
            exits = cancels if churn else or_events
            model = Quiet(
                state,
                at_risk,
                anchor,
                hazard.window_days,
                hazard.base,
                hazard.max,
                tuple(hazard.covariates.values()),
                activity,
                activity | events,
                exits,
                or_events | cancels,
            )
            out.append(model)
            continue
        pop = _population(plan, state, index)
        rate = params.rate(state.id, plan.chain[pop].id)
        if rate is None:
            continue
        active = events | {plan.chain[pop].event or ""}
        out.append(
            Quiet(
                state,
                pop,
                pop,
                rule.days,
                rate,
                1.0,
                (),
                active,
                active,
                or_events,
                or_events | cancels,
            )
        )
    return out
