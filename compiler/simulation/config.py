"""The simulation config (`trackplan-simulation/2`): the default from the plan, and the checks
every config passes. The JSON shape (the typed model is compiler/simulation/model.py):

    {"format": "trackplan-simulation/2",
     "plan": {"name", "version"},
     "states": [{"id", "name", "event"}, ..., {"id", "name", "event": null,
                 "rule": {"kind": "active_within" | "inactive_for", "after", "days"}}],
     "transitions": {"TO|FROM": {"from", "to", "rate", "source": "plan" | "fit", optional
                     "alias", "ci_low", "ci_high", "alpha", "beta", "numerator", "denominator"}},
     "entry": {"title", "rate", "description", "source": "plan", "assumption": true} | null,
     "outcomes": [{"name", "title", "state"}, ...], "objective": outcome name,
     "hazard": {"state", "at_risk", "anchor", "window_days", "base", "max",
                "source": {"base", "max"}, "covariates": {name: {"event", "extra", "share",
                "source": {"extra", "share"}, optional "where": {"property", "test", "value"}}}}
               | null}
"""

from __future__ import annotations

from compiler.funnel.queries import population_state
from compiler.plan.model import Plan
from compiler.simulation.checks import check_semantics
from compiler.simulation.model import (
    SimConfig,
    SimCovariate,
    SimEntry,
    SimHazard,
    SimOutcome,
    SimState,
    SimTransition,
)
from compiler.simulation.parse import ConfigError, load_config, parse_config

# The model's types live in compiler/simulation/model.py; these are re-exported for callers.
__all__ = [
    "ConfigError",
    "SimConfig",
    "SimTransition",
    "config_from_plan",
    "default_outcomes",
    "load_config",
    "parse_config",
    "states_from_plan",
]


def states_from_plan(plan: Plan) -> tuple[SimState, ...]:
    out = []
    for s in plan.states:
        if s.rule is None:
            out.append(SimState(s.id, s.name, s.event))
            continue
        pop = population_state(plan, s)
        out.append(SimState(s.id, s.name, None, s.rule.kind, pop.id if pop else None, s.rule.days))
    return tuple(out)


def default_outcomes(
    plan: Plan, states: tuple[SimState, ...], rated: set[str]
) -> tuple[tuple[SimOutcome, ...], str]:
    """(outcomes, objective): the plan's forecast; without one, every chain state (named by its
    id) and every rule state the forecast can reach (the hazard's, or one with a rate in
    `rated`), with the last chain state as the objective."""
    if plan.forecast is not None:
        outcomes = tuple(SimOutcome(o.name, o.title, o.state) for o in plan.forecast.outcomes)
        return outcomes, plan.forecast.objective
    chain = [SimOutcome(s.id, s.name, s.id) for s in states if s.event is not None]
    rules = [
        SimOutcome(s.id, s.name, s.id)
        for s in states
        if s.rule is not None
        and (
            (plan.hazard is not None and plan.hazard.state == s.id) or f"{s.id}|{s.after}" in rated
        )
    ]
    return tuple(chain + rules), chain[-1].name if chain else ""


def hazard_from_plan(plan: Plan) -> SimHazard | None:
    h = plan.hazard
    if h is None:
        return None
    covariates = {
        name: SimCovariate(name, c.event, c.extra, c.share, c.property, c.test, c.value)
        for name, c in h.covariates.items()
    }
    return SimHazard(h.state, h.at_risk, h.anchor, h.window_days, h.base, h.max, covariates)


def config_from_plan(plan: Plan) -> SimConfig:
    """The default config: the plan's chain, the transition rates it gives (a transition without
    a default is left out), its forecast outcomes, entry rate and hazard."""
    states = states_from_plan(plan)
    transitions = {
        t.name: SimTransition(t.name, t.from_state, t.to_state, t.rate, "plan", t.alias)
        for t in plan.transitions
        if t.rate is not None
    }
    outcomes, objective = default_outcomes(plan, states, set(transitions))
    entry = None
    if plan.forecast is not None and plan.forecast.entry is not None:
        e = plan.forecast.entry
        entry = SimEntry(e.title, e.rate, e.description)
    config = SimConfig(
        plan.name,
        plan.version,
        states,
        transitions,
        outcomes,
        objective,
        entry,
        hazard_from_plan(plan),
    )
    problems = check_semantics(config)
    if problems:
        raise ConfigError(f"plan {plan.name}: " + "; ".join(problems))
    return config
