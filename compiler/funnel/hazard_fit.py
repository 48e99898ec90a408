"""The churn hazard fitted from its cells: base + each covariate's extra by weighted least
squares, each covariate's share from the persons at risk (definitions in fit.py)."""

from __future__ import annotations

from dataclasses import replace

from compiler.funnel.results import HazardCells
from compiler.simulation.model import SimHazard


def fit_hazard(cells: HazardCells, prior: SimHazard) -> SimHazard:
    """`prior` (the plan's hazard) with every value the cells support replaced, marked fit."""
    names = [n for n in cells.covariates if n in prior.covariates]
    persons = sum(c.persons for c in cells.cells)
    covariates = dict(prior.covariates)
    if persons:
        for n in names:
            holding = sum(c.persons for c in cells.cells if c.facts.get(n))
            covariates[n] = replace(covariates[n], share=holding / persons, share_source="fit")
    observed = [c for c in cells.cells if c.observed]
    if not observed:
        return replace(prior, covariates=covariates)
    # Columns: the intercept, then the covariates the observed persons vary on.
    free = [
        n
        for n in names
        if any(c.facts.get(n) for c in observed) and any(not c.facts.get(n) for c in observed)
    ]
    fixed = {n: prior.covariates[n].extra for n in names if n not in free}
    xs = [[1.0] + [float(bool(c.facts.get(n))) for n in free] for c in observed]
    ys = [
        c.churned - c.observed * sum(e for n, e in fixed.items() if c.facts.get(n))
        for c in observed
    ]
    solved = _weighted_least_squares(xs, ys, [float(c.observed) for c in observed])
    if solved is None:  # covariates move together: their effects cannot be told apart
        solved = _weighted_least_squares(
            [[1.0] for _ in observed],
            [
                y - c.observed * sum(prior.covariates[n].extra for n in free if c.facts.get(n))
                for y, c in zip(ys, observed, strict=True)
            ],
            [float(c.observed) for c in observed],
        )
        free = []
    if solved is None:
        return replace(prior, covariates=covariates)
    base = min(max(solved[0], 0.0), prior.max)
    for n, extra in zip(free, solved[1:], strict=True):
        declared = prior.covariates[n].extra
        if declared > 0:
            extra = max(extra, 0.0)
        elif declared < 0:
            extra = min(extra, 0.0)
        covariates[n] = replace(covariates[n], extra=min(max(extra, -1.0), 1.0), extra_source="fit")
    return replace(prior, base=base, base_source="fit", covariates=covariates)


def _weighted_least_squares(
    xs: list[list[float]], ys: list[float], weights: list[float]
) -> list[float] | None:
    """Minimise sum w (y/w - x.p)^2 with y already a count: normal equations
    (sum w x x^T) p = sum x y. None when singular."""
    k = len(xs[0]) if xs else 0
    a = [
        [sum(w * x[i] * x[j] for x, w in zip(xs, weights, strict=True)) for j in range(k)]
        for i in range(k)
    ]
    b = [sum(x[i] * y for x, y in zip(xs, ys, strict=True)) for i in range(k)]
    return _solve(a, b)


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-9 * max(1.0, max(abs(v) for row in a for v in row)):
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [v - f * w for v, w in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]
