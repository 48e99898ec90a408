"""Monte Carlo forecast of a cohort through the plan's chain, vectorised over runs.

Each run draws its rates from their posteriors (parameter uncertainty), then pushes the cohort
through the funnel as a chain of binomial draws on counts (sampling noise): one numpy call per
step for all runs at once, so the cost does not depend on the size of the cohort.

Semantics (the config is compiler/simulation/model.py):
- the cohort: with an entry rate, `cohort` impressions of which Binomial(cohort, entry) reach
  the first chain state; without one, the cohort *is* the first state's count ("entrants").
- chain: reach(k) = Binomial(reach(k-1), P(chain[k] | chain[k-1])).
- an outcome on a chain state = reach(state); on a rule state R judged after chain state A
  (`after`) = Binomial(reach(A), P(R | A)), so retention is conditioned on the people it was
  measured on (a rate measured on purchasers is never applied to every uploader).
- an outcome on the hazard's state: among reach(at_risk), each covariate holds independently
  with its share; a person churns with clip(base + extras of the covariates that hold, 0, max).
  A covariate with a positive extra (a failed job) raises churn: PRD §12's template never
  applied it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compiler.simulation.model import SimConfig, SimHazard, SimState
from compiler.simulation.parameters import apply_overrides, draw_rates, mean_rate

QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}
MAX_COVARIATES = 16  # 2^16 covariate cells per run at most


class MissingRates(ValueError):
    """The forecast needs transitions the config has no rate for."""


@dataclass(frozen=True)
class Forecast:
    cohort: int
    runs: int
    seed: int | None
    outcomes: dict[str, np.ndarray]  # name -> one count per run
    titles: dict[str, str] = field(default_factory=dict)
    cohort_label: str = "impressions"  # impressions (with an entry rate) or entrants
    objective: str = ""
    sweep: tuple[dict[str, Any], ...] = field(default=())

    def mean(self) -> dict[str, float]:
        return {k: float(v.mean()) for k, v in self.outcomes.items()}

    def quantiles(self) -> dict[str, dict[str, float]]:
        return {
            k: {q: float(np.quantile(v, p)) for q, p in QUANTILES.items()}
            for k, v in self.outcomes.items()
        }

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cohort": self.cohort,
            "cohort_label": self.cohort_label,
            "runs": self.runs,
            "seed": self.seed,
            "objective": self.objective,
            "titles": dict(self.titles),
            "mean": self.mean(),
            "quantiles": self.quantiles(),
        }
        if self.cohort_label == "impressions":
            out["impressions"] = self.cohort
        if self.sweep:
            out["sweep"] = list(self.sweep)
        return out


def require_rates(config: SimConfig) -> None:
    missing = config.missing()
    if missing:
        raise MissingRates(
            f"cannot forecast: no rate for {', '.join(missing)} (the plan gives no default and "
            "no fitted value was supplied; give one in the plan's transitions, run `trackplan "
            "fit`, or --set it)"
        )
    if len(config.hazard.covariates if config.hazard else ()) > MAX_COVARIATES:
        raise MissingRates(f"cannot forecast: more than {MAX_COVARIATES} hazard covariates")


def churn_probability(hazard: SimHazard, facts: Mapping[str, bool]) -> float:
    """clip(base + the extras of the covariates that hold, 0, max)."""
    p = hazard.base + sum(c.extra for n, c in hazard.covariates.items() if facts.get(n))
    return min(max(p, 0.0), hazard.max)


def _cells(hazard: SimHazard) -> list[tuple[float, dict[str, bool]]]:
    """(probability, facts) for every combination of covariates, independent shares."""
    cells: list[tuple[float, dict[str, bool]]] = [(1.0, {})]
    for name, c in hazard.covariates.items():
        cells = [
            (w * (c.share if holds else 1.0 - c.share), {**facts, name: holds})
            for w, facts in cells
            for holds in (True, False)
        ]
    return cells


def _walk(
    config: SimConfig,
    first: Any,
    step: Callable[[Any, str], Any],
    churned: Callable[[Any], Any],
) -> dict[str, Any]:
    """Every outcome from the first state's count, a transition step and the hazard."""
    chain = config.chain_states
    needed = set(config.needed())
    reach: dict[str, Any] = {chain[0].id: first}
    for a, b in zip(chain, chain[1:], strict=False):
        name = f"{b.id}|{a.id}"
        if name not in needed:
            break
        reach[b.id] = step(reach[a.id], name)
    counts: dict[str, Any] = {}
    for outcome in config.outcomes:
        state = config.state(outcome.state)
        if state is None:
            continue
        if state.id not in counts:
            counts[state.id] = _count(config, state, reach, step, churned)
    return {o.name: counts[o.state] for o in config.outcomes if o.state in counts}


def _count(
    config: SimConfig,
    state: SimState,
    reach: dict[str, Any],
    step: Callable[[Any, str], Any],
    churned: Callable[[Any], Any],
) -> Any:
    if state.event is not None:
        return reach[state.id]
    if config.hazard is not None and config.hazard.state == state.id:
        return churned(reach[config.hazard.at_risk])
    return step(reach[state.after or ""], f"{state.id}|{state.after}")


def simulate(
    config: SimConfig,
    cohort: int,
    runs: int,
    seed: int | None = None,
    overrides: dict[str, float] | None = None,
) -> Forecast:
    """Forecast a cohort `runs` times; `overrides` maps parameter names to rates."""
    if cohort < 0 or runs < 1:
        raise ValueError("the cohort must be >= 0 and runs >= 1")
    if overrides:
        config = apply_overrides(config, overrides)
    require_rates(config)
    rng = np.random.default_rng(seed)
    rates = {n: draw_rates(config.transitions[n], runs, rng) for n in config.needed()}
    if config.entry is None:
        first = np.full(runs, cohort, dtype=np.int64)
    else:
        first = rng.binomial(cohort, config.entry.rate, size=runs)

    def step(n: np.ndarray, name: str) -> np.ndarray:
        return rng.binomial(n, rates[name])

    def churned(at_risk: np.ndarray) -> np.ndarray:
        assert config.hazard is not None
        h = config.hazard
        cells = [(at_risk, 0.0)]
        for c in h.covariates.values():
            split = []
            for n, extra in cells:
                holds = rng.binomial(n, c.share)
                split += [(holds, extra + c.extra), (n - holds, extra)]
            cells = split
        total = np.zeros_like(at_risk)
        for n, extra in cells:
            total += rng.binomial(n, min(max(h.base + extra, 0.0), h.max))
        return total

    outcomes = _walk(config, first, step, churned)
    return Forecast(
        cohort,
        runs,
        seed,
        outcomes,
        {o.name: o.title for o in config.outcomes},
        "entrants" if config.entry is None else "impressions",
        config.objective,
    )


def expected(config: SimConfig, cohort: float) -> dict[str, float]:
    """The exact expected value of every outcome (what the Monte Carlo means converge to)."""
    require_rates(config)
    first = float(cohort) if config.entry is None else cohort * config.entry.rate

    def step(n: float, name: str) -> float:
        return n * mean_rate(config.transitions[name])

    def churned(at_risk: float) -> float:
        assert config.hazard is not None
        h = config.hazard
        return at_risk * sum(w * churn_probability(h, facts) for w, facts in _cells(h))

    return {k: float(v) for k, v in _walk(config, first, step, churned).items()}
