"""The numbers synth draws people with: P(TO|FROM) by name and the churn hazard, from a
`trackplan-simulation/2` config (or the plan's own defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from compiler.plan.model import Plan
from compiler.simulation.config import SimConfig, hazard_from_plan
from compiler.simulation.model import SimHazard


@dataclass(frozen=True)
class Params:
    """The numbers synth draws people with: P(TO|FROM) by name, and the hazard."""

    rates: Mapping[str, float]
    hazard: SimHazard | None = None

    def rate(self, to_state: str, from_state: str) -> float | None:
        return self.rates.get(f"{to_state}|{from_state}")


def params_from_config(config: SimConfig) -> Params:
    """Rates and hazard of a `trackplan-simulation/2` config."""
    return Params({name: float(t.rate) for name, t in config.transitions.items()}, config.hazard)


def params_from_plan(plan: Plan) -> Params:
    """The plan's own defaults (what `config_from_plan` starts from)."""
    rates = {t.name: t.rate for t in plan.transitions if t.rate is not None}
    return Params(rates, hazard_from_plan(plan))
