"""Plans of other shapes, derived from the shipped one: other state ids, a shorter chain, no
default for some transitions. The funnel code must not care what the states are called."""

from __future__ import annotations

from dataclasses import replace

from compiler.plan.model import Plan, Transition

WORDS = {
    "S0": "click",
    "S1": "land",
    "S2": "cta",
    "S3": "signup",
    "S4": "login",
    "S5": "credits",
    "S6": "upload",
    "S7": "job",
    "S8": "download",
    "S9": "buy",
    "S10": "kept",
    "S11": "lost",
}


def reshape(plan: Plan, keep: list[str], names: dict[str, str] = WORDS) -> Plan:
    """The plan with only the chain states `keep` (in order) plus its rule states, every state
    renamed by `names`, and transitions between consecutive kept states (the plan's rate when
    it had that exact transition, else none)."""
    rules = [s for s in plan.states if s.rule is not None]
    chain = [s for s in plan.chain if s.id in keep]
    states = []
    for i, s in enumerate([*chain, *rules]):
        rule = s.rule
        if rule is not None and rule.after is not None:
            rule = replace(rule, after=names[rule.after])
        states.append(replace(s, id=names[s.id], rule=rule, index=i))
    old = {t.name: t for t in plan.transitions}
    transitions = []
    for a, b in zip(chain, chain[1:], strict=False):
        t = old.get(f"{b.id}|{a.id}")
        transitions.append(
            Transition(
                f"{names[b.id]}|{names[a.id]}",
                names[b.id],
                names[a.id],
                t.rate if t else None,
                alias=t.alias if t else None,
            )
        )
    for s in rules:
        if s.rule is not None and s.rule.after and f"{s.id}|{s.rule.after}" in old:
            t = old[f"{s.id}|{s.rule.after}"]
            transitions.append(
                replace(
                    t,
                    name=f"{names[s.id]}|{names[t.from_state]}",
                    to_state=names[s.id],
                    from_state=names[t.from_state],
                )
            )
    forecast = plan.forecast
    if forecast is not None:
        kept = {names[s] for s in keep} | {names[s.id] for s in rules}
        outcomes = tuple(
            replace(o, state=names[o.state]) for o in forecast.outcomes if names[o.state] in kept
        )
        forecast = replace(forecast, outcomes=outcomes)
    hazard = plan.hazard
    if hazard is not None:
        hazard = replace(
            hazard,
            state=names[hazard.state],
            at_risk=names[hazard.at_risk],
            anchor=names[hazard.anchor] if hazard.anchor else None,
        )
    return replace(
        plan,
        states=tuple(states),
        transitions=tuple(transitions),
        forecast=forecast,
        hazard=hazard,
    )
