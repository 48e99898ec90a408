"""The numbers synth draws people with: P(TO|FROM) by name and the churn hazard, from a
`trackplan-simulation/2` config (or the plan's own defaults)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compiler.plan.model import Plan
from compiler.simulation.config import SimConfig


@dataclass(frozen=True)
class CovariateParams:
    name: str
    event: str
    extra: float
    share: float
    property: str | None = None
    test: str | None = None
    value: Any = None


@dataclass(frozen=True)
class HazardParams:
    state: str
    at_risk: str
    anchor: str | None
    window_days: int
    base: float
    max: float
    covariates: tuple[CovariateParams, ...] = ()


@dataclass(frozen=True)
class Params:
    """The numbers synth draws people with: P(TO|FROM) by name, and the hazard."""

    rates: Mapping[str, float]
    hazard: HazardParams | None = None

    def rate(self, to_state: str, from_state: str) -> float | None:
        return self.rates.get(f"{to_state}|{from_state}")


def params_from_config(config: SimConfig) -> Params:
    """Rates and hazard of a `trackplan-simulation/2` config."""
    rates = {name: float(t.rate) for name, t in config.transitions.items()}
    raw = config.hazard
    hazard = None
    if raw is not None:
        covariates = tuple(
            CovariateParams(
                c.name, c.event, float(c.extra), float(c.share), c.property, c.test, c.value
            )
            for c in raw.covariates.values()
        )
        hazard = HazardParams(
            raw.state,
            raw.at_risk,
            raw.anchor,
            int(raw.window_days),
            float(raw.base),
            float(raw.max),
            covariates,
        )
    return Params(rates, hazard)


def params_from_plan(plan: Plan) -> Params:
    """The plan's own defaults (what `config_from_plan` starts from)."""
    rates = {t.name: t.rate for t in plan.transitions if t.rate is not None}
    h = plan.hazard
    if h is None:
        return Params(rates)
    covariates = tuple(
        CovariateParams(c.name, c.event, c.extra, c.share, c.property, c.test, c.value)
        for c in h.covariates.values()
    )
    return Params(
        rates, HazardParams(h.state, h.at_risk, h.anchor, h.window_days, h.base, h.max, covariates)
    )
