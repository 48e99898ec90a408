"""The simulated user model (PRD §7, issue 14 item 8): a per-person Monte Carlo, vectorised.

N persons x D days x R runs. Each run draws N covariate rows, with replacement, from the
fitted population (observed persons' rows). Then, on each day d = 0..D-1, for every person
still active at the start of the day, in this order:
1. purchase with probability p = sigmoid(intercept + x . coef) (the Propensity), earning
   `revenue_per_purchase`;
2. churn with the hazard h = 1 - exp(-exp(alpha(period) + x . beta)) (the HazardFit), where
   period = the hazard's first period + d; a churned person is gone from day d + 1 on;
3. step the covariates: each `clock` covariate (days since the last activity) grows by 1, or
   becomes 1 on a day the person purchased (the purchase is their last activity; the
   simulation knows no other activity); every other covariate stays fixed.

Random stream (so a plain loop can replay it exactly): per run, `integers(0, rows, N)` for the
covariate rows; then per day, with A persons active (in their original order), `random(A)` for
purchases (buy iff u < p) and `standard_exponential(A)` for churn (churn iff E < -log(1 - h) =
exp(alpha + x . beta), which has probability h). Churned persons are dropped from the arrays, so
the work is proportional to person-days alive; exp() runs once per person, not per day (the
clock covariates' effect is kept as a factor multiplied daily).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from compiler.models.hazard import HazardError, HazardFit

PROPENSITY_FORMAT = "trackplan-propensity/1"
QUANTILES = (("p5", 5.0), ("p50", 50.0), ("p95", 95.0))
METRICS = ("purchases", "revenue", "active", "churned")

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Propensity:
    """Daily purchase probability: a logistic model on named covariates."""

    names: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, X: npt.ArrayLike) -> Floats:
        x = np.asarray(X, dtype=np.float64).reshape(-1, len(self.names))
        out: Floats = 1.0 / (1.0 + np.exp(-(self.intercept + x @ np.asarray(self.coef))))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PROPENSITY_FORMAT,
            "model": "daily purchase probability, logistic",
            "intercept": self.intercept,
            "covariates": [
                {"name": n, "coef": c} for n, c in zip(self.names, self.coef, strict=True)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Propensity:
        if not isinstance(data, dict) or data.get("format") != PROPENSITY_FORMAT:
            raise HazardError(f"not a propensity file (expected format {PROPENSITY_FORMAT!r})")
        try:
            cov = data.get("covariates", [])
            return cls(
                tuple(str(c["name"]) for c in cov),
                tuple(float(c["coef"]) for c in cov),
                float(data["intercept"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HazardError(f"propensity file: missing or bad field ({exc})") from None


@dataclass(frozen=True)
class Population:
    """Observed persons' covariate rows to resample from, and which columns are clocks."""

    X: Floats  # (rows, len(names))
    names: tuple[str, ...]
    clock: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> Population:
        """The `population` block `trackplan hazard` writes: distinct rows with counts."""
        try:
            names = tuple(str(n) for n in data["names"])
            rows = np.asarray(data["rows"], dtype=np.float64).reshape(-1, len(names))
            counts = np.asarray(data.get("counts", [1] * len(rows)), dtype=np.int64)
            clock = tuple(str(c) for c in data.get("clock", ()))
            X = np.repeat(rows, counts, axis=0)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise HazardError(f"population: missing or bad field ({exc})") from None
        return cls(X, names, tuple(c for c in clock if c in names))


@dataclass(frozen=True)
class PopulationResult:
    """Per run and day: purchases, revenue, active (at the day's start), churned (that day)."""

    persons: int
    days: int
    runs: int
    seed: int | None
    revenue_per_purchase: float
    purchases: npt.NDArray[np.int64]  # (runs, days)
    revenue: Floats
    active: npt.NDArray[np.int64]
    churned: npt.NDArray[np.int64]

    def metric(self, name: str) -> Floats:
        return np.asarray(getattr(self, name), dtype=np.float64)

    def quantiles(self, name: str) -> dict[str, Floats]:
        """p5 / p50 / p95 over runs, per day (numpy's linear interpolation)."""
        values = self.metric(name)
        return {label: np.percentile(values, q, axis=0) for label, q in QUANTILES}

    def to_json(self) -> dict[str, Any]:
        daily = []
        for d in range(self.days):
            row: dict[str, Any] = {"day": d}
            for name in METRICS:
                values = self.metric(name)[:, d]
                row[name] = {"mean": float(values.mean())} | {
                    label: float(np.percentile(values, q)) for label, q in QUANTILES
                }
            daily.append(row)
        totals = {
            name: {"mean": float(self.metric(name).sum(axis=1).mean())}
            | {
                label: float(np.percentile(self.metric(name).sum(axis=1), q))
                for label, q in QUANTILES
            }
            for name in ("purchases", "revenue", "churned")
        }
        return {
            "persons": self.persons,
            "days": self.days,
            "runs": self.runs,
            "seed": self.seed,
            "revenue_per_purchase": self.revenue_per_purchase,
            "daily": daily,
            "totals": totals,
        }


def _columns(population: Population, names: tuple[str, ...], what: str) -> list[int]:
    missing = [n for n in names if n not in population.names]
    if missing:
        raise HazardError(
            f"the {what} needs covariate(s) {', '.join(missing)} that the population lacks "
            f"(it has {', '.join(population.names) or 'none'})"
        )
    return [population.names.index(n) for n in names]


def _split(
    population: Population, names: tuple[str, ...], coef: tuple[float, ...], what: str
) -> tuple[Floats, Floats, Floats]:
    """(fixed-part weights over all columns, clock weights over clock columns, all weights)."""
    weights = np.zeros(len(population.names))
    for j, b in zip(_columns(population, names, what), coef, strict=True):
        weights[j] = b
    clock = np.array([population.names.index(c) for c in population.clock], dtype=np.int64)
    fixed = weights.copy()
    fixed[clock] = 0.0
    return fixed, weights[clock], weights


def simulate_population(
    hazard: HazardFit,
    propensity: Propensity | None,
    revenue_per_purchase: float,
    population: Population,
    persons: int,
    days: int,
    runs: int = 1,
    seed: int | None = None,
) -> PopulationResult:
    """Run the Monte Carlo (module docstring); raises HazardError on inconsistent inputs."""
    X = np.asarray(population.X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(population.names) or len(X) == 0:
        raise HazardError("the population must be a non-empty (rows, covariates) matrix")
    if not np.isfinite(X).all():
        raise HazardError("the population has NaN or infinite covariate values")
    bad = [c for c in population.clock if c not in population.names]
    if bad:
        raise HazardError(f"clock covariate(s) {', '.join(bad)} are not in the population")
    if persons < 1 or days < 1 or runs < 1 or revenue_per_purchase < 0:
        raise HazardError("persons, days and runs must be >= 1 and revenue >= 0")
    h_fixed, h_clock, _ = _split(population, hazard.names, hazard.coef, "hazard")
    if propensity is not None:
        p_fixed, p_clock, _ = _split(population, propensity.names, propensity.coef, "propensity")
    clock = [population.names.index(c) for c in population.clock]
    # Cumulative hazard per period, -log(1 - baseline): churn iff E < rate x exp(x . beta).
    rate = -np.log1p(-np.asarray(hazard.baseline, dtype=np.float64))
    first = hazard.periods[0]
    at = np.clip(
        np.searchsorted(hazard.periods, first + np.arange(days), side="right") - 1,
        0,
        len(hazard.periods) - 1,
    )
    rng = np.random.default_rng(seed)
    shape = (runs, days)
    out = {n: np.zeros(shape, dtype=np.int64) for n in ("purchases", "active", "churned")}
    # exp(x . beta) kept as (fixed factor) x (clock factor): a day multiplies the clock factor
    # by exp(sum of clock coefs); a purchase resets every clock to 1, the factor to that.
    g_h = float(np.exp(h_clock.sum()))
    g_p = float(np.exp(p_clock.sum())) if propensity is not None else 1.0
    for r in range(runs):
        rows = X[rng.integers(0, len(X), persons)]
        w_h = np.exp(rows @ h_fixed)
        a_h = w_h * np.exp(rows[:, clock] @ h_clock)
        if propensity is not None:
            w_p = np.exp(np.clip(rows @ p_fixed + propensity.intercept, -700.0, 700.0))
            a_p = w_p * np.exp(rows[:, clock] @ p_clock)
        for d in range(days):
            n = len(a_h)
            u_buy, e_churn = rng.random(n), rng.standard_exponential(n)
            out["active"][r, d] = n
            if propensity is not None:
                bought = u_buy * (1.0 + a_p) < a_p  # u < odds / (1 + odds)
                out["purchases"][r, d] = np.count_nonzero(bought)
            stay = e_churn >= rate[at[d]] * a_h
            out["churned"][r, d] = n - np.count_nonzero(stay)
            if clock and propensity is not None:
                a_h = np.where(bought, w_h, a_h)[stay] * g_h
                a_p = np.where(bought, w_p, a_p)[stay] * g_p
                w_h, w_p = w_h[stay], w_p[stay]
            elif clock:
                a_h, w_h = a_h[stay] * g_h, w_h[stay]
            else:
                a_h = a_h[stay]
                if propensity is not None:
                    a_p = a_p[stay]
    return PopulationResult(
        persons,
        days,
        runs,
        seed,
        float(revenue_per_purchase),
        out["purchases"],
        out["purchases"].astype(np.float64) * float(revenue_per_purchase),
        out["active"],
        out["churned"],
    )
