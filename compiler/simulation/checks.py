"""The consistency checks every simulation config passes (unknown states, bad intervals, an
objective that is not an outcome, a hazard on a chain state, ...)."""

from __future__ import annotations

from compiler.simulation.model import SimConfig, SimState


def check_semantics(config: SimConfig) -> list[str]:
    """Problems that make the config inconsistent (unknown states, bad intervals, ...)."""
    problems = []
    ids = [s.id for s in config.states]
    by_id = {s.id: s for s in config.states}
    chain = {s.id for s in config.chain_states}
    if len(set(ids)) != len(ids):
        problems.append(f"states: ids must be unique, got {ids}")
    if not chain:
        problems.append("states: no state is marked by an event (the chain is empty)")
    for s in config.states:
        if s.rule is not None and s.after is not None and s.after not in chain:
            problems.append(f"states.{s.id}.rule.after: '{s.after}' is not a chain state")
    for name, t in config.transitions.items():
        if name != f"{t.to_state}|{t.from_state}":
            problems.append(f"transitions.{name}: from/to must be {t.from_state} -> {t.to_state}")
        if t.from_state not in by_id or t.to_state not in by_id:
            problems.append(f"transitions.{name}: refers to a state the config does not list")
        if t.ci_low is not None and t.ci_high is not None and not t.ci_low <= t.rate <= t.ci_high:
            problems.append(f"transitions.{name}: rate {t.rate} is not inside [ci_low, ci_high]")
        for key in ("alpha", "beta"):
            value = getattr(t, key)
            if value is not None and value <= 0:
                problems.append(f"transitions.{name}.{key}: must be > 0")
        if (t.alpha is None) != (t.beta is None):
            problems.append(f"transitions.{name}: give both alpha and beta, or neither")
    names = [o.name for o in config.outcomes]
    if len(set(names)) != len(names):
        problems.append(f"outcomes: names must be unique, got {names}")
    hazard_state = config.hazard.state if config.hazard else None
    for o in config.outcomes:
        state = by_id.get(o.state)
        if state is None:
            problems.append(f"outcomes.{o.name}: state '{o.state}' is not in the config")
        elif state.event is None and state.id != hazard_state and state.after not in chain:
            problems.append(
                f"outcomes.{o.name}: rule state '{o.state}' has no chain state it is judged "
                "after, and no hazard models it"
            )
    if config.outcomes and config.objective not in names:
        problems.append(f"objective: '{config.objective}' is not an outcome")
    problems += _hazard_problems(config, by_id, chain)
    return problems


def _hazard_problems(config: SimConfig, by_id: dict[str, SimState], chain: set[str]) -> list[str]:
    h = config.hazard
    if h is None:
        return []
    problems = []
    if h.state not in by_id or by_id[h.state].event is not None:
        problems.append(f"hazard.state: '{h.state}' is not a rule state of the config")
    if h.at_risk not in chain:
        problems.append(f"hazard.at_risk: '{h.at_risk}' is not a chain state")
    if h.anchor is not None and h.anchor not in chain:
        problems.append(f"hazard.anchor: '{h.anchor}' is not a chain state")
    if h.base > h.max:
        problems.append("hazard: base is above max")
    return problems
