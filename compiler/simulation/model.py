"""The simulation config's typed model (`trackplan-simulation/2`): what `build` writes from the
plan, `fit` learns from exports, and `simulate` and `synth` read.

Every value says where it came from: `source` "plan" (the plan's default) or "fit" (learned from
data). The entry rate is always the plan's and an assumption. A transition that neither the plan
nor the data gave is absent; `SimConfig.missing()` names the ones the forecast needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

FORMAT = "trackplan-simulation/2"
SOURCES = ("plan", "fit", "set")  # set: moved by `simulate --set` (never written by build/fit)
OPTIONAL_TRANSITION_KEYS = ("ci_low", "ci_high", "alpha", "beta", "numerator", "denominator")
Scalar = str | int | float | bool


@dataclass(frozen=True)
class SimState:
    id: str
    name: str
    event: str | None  # the chain's states have one; rule states have none
    rule: str | None = None  # active_within | inactive_for
    after: str | None = None  # a rule state's population: the chain state it is judged after
    days: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "event": self.event}
        if self.rule is not None:
            out["rule"] = {"kind": self.rule, "after": self.after, "days": self.days}
        return out


@dataclass(frozen=True)
class SimTransition:
    name: str  # "TO|FROM"
    from_state: str
    to_state: str
    rate: float
    source: str = "plan"
    alias: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    alpha: float | None = None
    beta: float | None = None
    numerator: int | None = None
    denominator: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": self.from_state,
            "to": self.to_state,
            "rate": self.rate,
            "source": self.source,
        }
        if self.alias is not None:
            out["alias"] = self.alias
        for key in OPTIONAL_TRANSITION_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class SimEntry:
    """P(first chain state | impression): always the plan's, and an assumption."""

    title: str
    rate: float
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "rate": self.rate,
            "description": self.description,
            "source": "plan",
            "assumption": True,
        }


@dataclass(frozen=True)
class SimOutcome:
    name: str
    title: str
    state: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "state": self.state}


@dataclass(frozen=True)
class SimCovariate:
    name: str
    event: str
    extra: float
    share: float
    property: str | None = None
    test: str | None = None
    value: Scalar | None = None
    extra_source: str = "plan"
    share_source: str = "plan"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event": self.event,
            "extra": self.extra,
            "share": self.share,
            "source": {"extra": self.extra_source, "share": self.share_source},
        }
        if self.property is not None:
            out["where"] = {"property": self.property, "test": self.test, "value": self.value}
        return out


@dataclass(frozen=True)
class SimHazard:
    """P(churn within window_days | at risk) = clip(base + extras of covariates that hold, 0, max)."""

    state: str
    at_risk: str
    anchor: str | None
    window_days: int
    base: float
    max: float
    covariates: Mapping[str, SimCovariate] = field(default_factory=dict)
    base_source: str = "plan"

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "at_risk": self.at_risk,
            "anchor": self.anchor,
            "window_days": self.window_days,
            "base": self.base,
            "max": self.max,
            "source": {"base": self.base_source, "max": "plan"},
            "covariates": {n: c.to_json() for n, c in self.covariates.items()},
        }


@dataclass(frozen=True)
class SimConfig:
    plan_name: str
    plan_version: str
    states: tuple[SimState, ...]
    transitions: Mapping[str, SimTransition]
    outcomes: tuple[SimOutcome, ...]
    objective: str
    entry: SimEntry | None = None
    hazard: SimHazard | None = None

    @property
    def chain_states(self) -> tuple[SimState, ...]:
        return tuple(s for s in self.states if s.event is not None)

    def state(self, state_id: str) -> SimState | None:
        return next((s for s in self.states if s.id == state_id), None)

    def rate(self, name: str) -> float:
        return self.transitions[name].rate

    def needed(self) -> list[str]:
        """The transitions the forecast of every outcome needs, in chain order."""
        chain = [s.id for s in self.chain_states]
        depth, rules = 0, []
        for outcome in self.outcomes:
            state = self.state(outcome.state)
            if state is None:
                continue
            if state.event is not None:
                depth = max(depth, chain.index(state.id))
            elif self.hazard is not None and self.hazard.state == state.id:
                if self.hazard.at_risk in chain:
                    depth = max(depth, chain.index(self.hazard.at_risk))
            elif state.after in chain:
                depth = max(depth, chain.index(state.after or ""))
                rules.append(f"{state.id}|{state.after}")
        steps = [f"{b}|{a}" for a, b in zip(chain[:depth], chain[1 : depth + 1], strict=True)]
        return steps + list(dict.fromkeys(rules))

    def missing(self) -> list[str]:
        """Needed transitions that neither the plan nor the data gave a rate."""
        return [n for n in self.needed() if n not in self.transitions]

    def kept_from_plan(self) -> list[str]:
        """Values taken from the plan's defaults rather than learned from data."""
        kept = [n for n, t in self.transitions.items() if t.source == "plan"]
        if self.hazard is not None:
            if self.hazard.base_source == "plan":
                kept.append("hazard.base")
            for c in self.hazard.covariates.values():
                kept += [
                    f"hazard.{c.name}.{k}"
                    for k in ("extra", "share")
                    if getattr(c, f"{k}_source") == "plan"
                ]
        return kept

    def with_transition(self, transition: SimTransition) -> SimConfig:
        return replace(self, transitions={**self.transitions, transition.name: transition})

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "plan": {"name": self.plan_name, "version": self.plan_version},
            "states": [s.to_json() for s in self.states],
            "transitions": {n: t.to_json() for n, t in self.transitions.items()},
            "entry": None if self.entry is None else self.entry.to_json(),
            "outcomes": [o.to_json() for o in self.outcomes],
            "objective": self.objective,
            "hazard": None if self.hazard is None else self.hazard.to_json(),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"
