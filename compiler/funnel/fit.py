"""`trackplan fit` as a library: a simulation config learned from a `RatesResult`.

Transitions: each state here has one way forward (on to the next state, or stop), so each
transition is a Beta posterior with the Jeffreys prior Beta(1/2, 1/2): alpha = k + 1/2,
beta = n - k + 1/2; `rate` is the posterior mean and `ci_low`/`ci_high` the Jeffreys 95% interval
(Dirichlet would be needed only for a state with several exits). Every rate the data supports
(n > 0) is learned (`source: fit`); without data the plan's default is kept (`source: plan`);
a transition with neither is left out, and `simulate` names it.

Churn hazard (definitions in compiler/funnel/hazard_queries.py): P(churn) = clip(base + sum of
the extras of the covariates that hold, 0, max) is fitted by weighted least squares over the
covariate cells (each weighted by its observed persons). A covariate whose extra the data cannot
identify (every observed person has it, or none does) keeps the plan's extra; an estimate of
the opposite sign to the plan's extra (noise against the declared direction) is clipped to 0.
Each covariate's share = persons at risk with it / persons at risk. `max` and the entry rate
(exports hold no impressions) are always the plan's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import duckdb

from compiler.funnel.hazard_fit import fit_hazard
from compiler.funnel.intervals import Proportion
from compiler.funnel.rates import RatesResult, compute
from compiler.plan.model import Plan
from compiler.simulation.config import (
    SimConfig,
    SimTransition,
    config_from_plan,
    default_outcomes,
)

__all__ = ["fit", "fit_export", "fit_hazard", "fit_transition"]


def fit_transition(name: str, prop: Proportion, alias: str | None = None) -> SimTransition:
    """The Jeffreys posterior of one transition (n > 0)."""
    to, frm = name.split("|")
    low, high = prop.interval()
    return SimTransition(
        name,
        frm,
        to,
        prop.alpha / (prop.alpha + prop.beta),
        "fit",
        alias,
        low,
        high,
        prop.alpha,
        prop.beta,
        prop.numerator,
        prop.denominator,
    )


def fit(rates: RatesResult, plan: Plan) -> SimConfig:
    """The simulation config (trackplan-simulation/2) learned from `rates`."""
    base = config_from_plan(plan)
    transitions = dict(base.transitions)
    aliases = {t.name: t.alias for t in plan.transitions}
    for name, prop in rates.transitions.items():
        if prop.denominator == 0:
            continue
        transitions[name] = fit_transition(name, prop, aliases.get(name))
    # Order: the chain and rule transitions as measured, then any other the plan gives.
    ordered = {n: transitions[n] for n in rates.transitions if n in transitions}
    ordered |= {n: t for n, t in transitions.items() if n not in ordered}
    outcomes, objective = default_outcomes(plan, base.states, set(ordered))
    hazard = base.hazard
    if hazard is not None and rates.hazard is not None:
        hazard = fit_hazard(rates.hazard, hazard)
    return replace(base, transitions=ordered, outcomes=outcomes, objective=objective, hazard=hazard)


def fit_export(
    plan: Plan, paths: Sequence[str | Path], window_days: int | None = None
) -> SimConfig:
    """Read exports (any format `trackplan audit` reads) and fit: the whole `fit` in one call.

    Raises ValueError naming the files when an export cannot be read."""
    from compiler.audit.rules import csv_nulls
    from compiler.exports import open_events

    con = duckdb.connect()
    report = open_events(con, [str(p) for p in paths], csv_nulls(plan))
    if report.errors:
        raise ValueError("cannot read the export(s): " + "; ".join(report.errors))
    return fit(compute(con, plan, window_days, fit_only=True), plan)
