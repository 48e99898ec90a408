"""Maximum likelihood on log-parameters, shared by the BG/NBD, Gamma-Gamma and sBG fits.

Every parameter of these models is positive, so the optimiser works on log(theta): no bounds, and
the numerical Hessian there gives standard errors by the delta method (se(theta) =
theta * se(log theta)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize  # type: ignore[import-untyped]

Vector = NDArray[np.float64]


class FitError(ValueError):
    """The data cannot support the fit (too few customers, no repeat buyers, no convergence)."""


@dataclass(frozen=True)
class LogFit:
    params: Vector  # on the natural scale
    loglik: float
    std_errors: Vector  # natural scale, delta method; NaN where the Hessian is not usable
    iterations: int
    converged: bool


RUNAWAY = 14.0  # |ln| of a scale-free parameter beyond this (about 1.2e6): no interior maximum


def check_interior(model: str, scale_free: dict[str, float], fit: LogFit, data: str) -> None:
    """FitError when the maximum is not interior: a parameter (made scale-free by the caller,
    e.g. alpha / mean T) ran off towards 0 or infinity, or the Hessian is not positive definite.
    Such "estimates" are artefacts of where the optimiser stopped, not parameters."""
    runaway = [n for n, v in scale_free.items() if not np.isfinite(v) or abs(np.log(v)) > RUNAWAY]
    if runaway or not np.all(np.isfinite(fit.std_errors)):
        what = f"{', '.join(runaway)} ran off to 0 or infinity" if runaway else "flat likelihood"
        raise FitError(
            f"{model} has no interior maximum on these data ({what}; {data}): too few or too "
            "uniform customers to estimate it"
        )


def _hessian(f: Callable[[Vector], float], x: Vector, step: float = 1e-4) -> Vector:
    """Central-difference Hessian of f at x."""
    n = x.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * step * step
            )
            h[i, j] = h[j, i] = v
    return h


def fit_log_params(negloglik: Callable[[Vector], float], start: Vector) -> LogFit:
    """Minimise negloglik(theta) over log(theta), starting from `start` (natural scale).

    Nelder-Mead finds the basin (robust to the flat starts these likelihoods have), then BFGS
    polishes it; the result is the better of the two."""

    def objective(log_theta: Vector) -> float:
        value = negloglik(np.exp(log_theta))
        return float(value) if np.isfinite(value) else 1e300

    x0 = np.log(np.asarray(start, dtype=float))
    coarse = minimize(
        objective,
        x0,
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 8000},
    )
    fine = minimize(objective, coarse.x, method="BFGS", options={"gtol": 1e-7})
    best = fine if fine.fun <= coarse.fun else coarse
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        raise FitError("the likelihood is not finite anywhere the optimiser looked")
    theta = np.exp(best.x)
    try:
        cov = np.linalg.inv(_hessian(objective, best.x))
        diag = np.diag(cov)
        se = np.where(diag > 0, theta * np.sqrt(np.abs(diag)), np.nan)
    except np.linalg.LinAlgError:
        se = np.full(theta.size, np.nan)
    return LogFit(
        params=theta,
        loglik=-float(best.fun),
        std_errors=se,
        iterations=int(coarse.nit) + int(fine.nit),
        converged=bool(coarse.success or fine.success),
    )
