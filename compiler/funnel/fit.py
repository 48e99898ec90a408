"""`trackplan fit` as a library: a simulation config learned from a `RatesResult`.

Transitions: each state here has one way forward (on to the next state, or stop), so each
transition is a Beta posterior with the Jeffreys prior Beta(1/2, 1/2): alpha = k + 1/2,
beta = n - k + 1/2; `rate` is the posterior mean and `ci_low`/`ci_high` the Jeffreys 95% interval
(Dirichlet would be needed only for a state with several exits; the plan has none). With no data
(n = 0) the rate stays the plan's default and the interval is the prior's.

Churn hazard (definitions in compiler/funnel/hazard_queries.py): the PRD §12 model
P(churn) = min(base + failed * extra_if_failed_job + slow * extra_if_slow_job, max) is fitted by
least squares over the four (failed, slow) cells, each weighted by its observed persons; `max`
(not identifiable from data) stays the plan's. The click-through rate needs ad impressions, which
exports do not hold, so it stays the plan's value.
"""

from __future__ import annotations

from typing import Any

from compiler.funnel.intervals import JEFFREYS, Proportion, beta_quantile
from compiler.funnel.rates import HazardCell, RatesResult
from compiler.plan.model import ChurnHazard, Plan

FORMAT = "trackplan-simulation/1"


def _transition(frm: str, to: str, k: int, n: int, default: float) -> dict[str, Any]:
    prop = Proportion(k, n)
    if n:
        rate = prop.alpha / (prop.alpha + prop.beta)
        low, high = prop.interval()
    else:  # no data: the plan's default inside the prior's interval
        rate = default
        low, high = beta_quantile(0.025, JEFFREYS, JEFFREYS), beta_quantile(
            0.975, JEFFREYS, JEFFREYS
        )
    return {
        "from": frm,
        "to": to,
        "rate": rate,
        "ci_low": low,
        "ci_high": high,
        "alpha": prop.alpha,
        "beta": prop.beta,
        "numerator": k,
        "denominator": n,
    }


def fit_hazard(cells: list[HazardCell], prior: ChurnHazard) -> dict[str, float]:
    """base, extra_if_failed_job, extra_if_slow_job, slow_job_share, max from the cells."""
    observed = [c for c in cells if c.observed]
    persons = sum(c.persons for c in cells)
    share = (
        sum(c.persons for c in cells if c.slow_job) / persons if persons else prior.slow_job_share
    )
    params = [prior.base, prior.extra_if_failed_job, prior.extra_if_slow_job]
    if observed:
        params = _least_squares(observed, params)
    # The PRD model's increments are non-negative; a noisy negative estimate is clipped to 0.
    base, failed, slow = (min(max(p, 0.0), prior.max) for p in params)
    return {
        "base": base,
        "extra_if_failed_job": failed,
        "extra_if_slow_job": slow,
        "slow_job_share": share,
        "max": prior.max,
    }


def _least_squares(cells: list[HazardCell], fallback: list[float]) -> list[float]:
    """Weighted least squares of churned/observed on [1, failed, slow]; a column with no
    persons (no failed or no slow person was observed) keeps its fallback value."""
    free = [True, any(c.failed_job for c in cells), any(c.slow_job for c in cells)]
    xs = [[1.0, float(c.failed_job), float(c.slow_job)] for c in cells]
    idx = [i for i in range(3) if free[i]]
    # Normal equations A p = b over the free columns, fixed ones moved to the right side.
    a = [
        [sum(c.observed * x[i] * x[j] for c, x in zip(cells, xs, strict=True)) for j in idx]
        for i in idx
    ]
    b = []
    for i in idx:
        total = 0.0
        for c, x in zip(cells, xs, strict=True):
            fixed = sum(fallback[j] * x[j] for j in range(3) if not free[j])
            total += x[i] * (c.churned - c.observed * fixed)
        b.append(total)
    solved = _solve(a, b)
    if solved is None:
        return fallback
    out = list(fallback)
    for i, value in zip(idx, solved, strict=True):
        out[i] = value
    return out


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [v - f * w for v, w in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit(rates: RatesResult, plan: Plan) -> dict[str, Any]:
    """The simulation config (format trackplan-simulation/1) learned from `rates`."""
    defaults = {t.name: t for t in plan.transitions}
    transitions: dict[str, Any] = {}
    for name, prop in rates.transitions.items():
        to, frm = name.split("|")
        default = defaults[name].rate if name in defaults else 0.5
        transitions[name] = _transition(frm, to, prop.numerator, prop.denominator, default)
    prior = plan.churn_hazard or ChurnHazard(
        base=0.25, extra_if_failed_job=0.2, extra_if_slow_job=0.1
    )
    return {
        "format": FORMAT,
        "plan": {"name": plan.name, "version": plan.version},
        "states": [{"id": s.id, "name": s.name, "event": s.event} for s in plan.states],
        "transitions": transitions,
        "churn_hazard": fit_hazard(rates.hazard_cells, prior),
        "click_through_rate": prior.click_through_rate,
    }
