"""The shifted-beta-geometric (sBG) model of contract retention (Fader and Hardie 2007, "How to
project customer retention").

Each customer renews at the end of every period with their own probability 1 - theta until the
first time they do not; theta ~ Beta(alpha, beta) across customers. For a cohort that starts
with n_0 customers and has n_t still active after period t:

    P(T = 1) = alpha / (alpha + beta)
    P(T = t) = (beta + t - 2) / (alpha + beta + t - 1) * P(T = t - 1)      (t >= 2)
    S(t)     = S(t - 1) - P(T = t),  S(0) = 1
    LL       = sum_t (n_(t-1) - n_t) ln P(T = t) + n_last ln S(last)

and the retention rate in period t is r_t = (beta + t - 1) / (alpha + beta + t - 1): it rises
with t, because the customers who stay are the ones with low theta.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln  # type: ignore[import-untyped]

from compiler.models.mle import FitError, check_interior, fit_log_params

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class SbgParams:
    alpha: float
    beta: float


@dataclass(frozen=True)
class SbgFit:
    params: SbgParams
    std_errors: SbgParams
    loglik: float
    periods: int  # the number of periods the fit used
    converged: bool


def churn_probabilities(params: SbgParams, periods: int) -> Vector:
    """P(T = t) for t = 1 .. periods: the share of the cohort that leaves in period t.

    B(alpha + 1, beta + t - 1) / B(alpha, beta), in logs so it holds for long horizons."""
    t = np.arange(1, periods + 1, dtype=float)
    out: Vector = np.exp(
        betaln(params.alpha + 1, params.beta + t - 1) - betaln(params.alpha, params.beta)
    )
    return out


def survival(params: SbgParams, periods: int) -> Vector:
    """S(t) for t = 0 .. periods: the share of the cohort still active after period t.

    B(alpha, beta + t) / B(alpha, beta)."""
    t = np.arange(0, periods + 1, dtype=float)
    out: Vector = np.exp(betaln(params.alpha, params.beta + t) - betaln(params.alpha, params.beta))
    return out


def retention_rates(params: SbgParams, periods: int) -> Vector:
    """r_t = S(t) / S(t - 1) for t = 1 .. periods."""
    t = np.arange(1, periods + 1, dtype=float)
    out: Vector = (params.beta + t - 1) / (params.alpha + params.beta + t - 1)
    return out


def log_likelihood(params: SbgParams, survivors: Sequence[int]) -> float:
    """LL of a cohort's survivor counts n_0 .. n_k (n_0 = the cohort's size)."""
    n = np.asarray(survivors, dtype=float)
    k = n.size - 1
    lost = n[:-1] - n[1:]
    p = churn_probabilities(params, k)
    s_last = survival(params, k)[-1]
    return float(np.sum(lost * np.log(p)) + n[-1] * np.log(s_last))


def _check(survivors: Sequence[int]) -> None:
    n = list(survivors)
    if len(n) < 3:
        raise FitError("sBG needs the cohort's size and at least two periods of survivor counts")
    if any(v < 0 for v in n) or any(b > a for a, b in zip(n, n[1:], strict=False)):
        raise FitError(f"survivor counts must be non-negative and never rise, got {n}")
    if n[0] == n[-1] or n[-1] == 0:
        raise FitError("sBG needs some customers to leave and some to stay")


def fit(survivors: Sequence[int]) -> SbgFit:
    """Maximum-likelihood sBG parameters from survivor counts n_0 .. n_k of one cohort."""
    _check(survivors)

    def negloglik(theta: NDArray[np.float64]) -> float:
        return -log_likelihood(SbgParams(*theta), survivors)

    result = fit_log_params(negloglik, np.array([1.0, 1.0]))
    alpha, beta = result.params
    check_interior("sBG", {"alpha": alpha, "beta": beta}, result, f"{len(survivors)} counts")
    return SbgFit(
        params=SbgParams(*(float(v) for v in result.params)),
        std_errors=SbgParams(*(float(v) for v in result.std_errors)),
        loglik=result.loglik,
        periods=len(survivors) - 1,
        converged=result.converged,
    )


def project(params: SbgParams, cohort_size: int, periods: int) -> Vector:
    """Expected survivors E[n_t] = n_0 S(t) for t = 0 .. periods."""
    out: Vector = cohort_size * survival(params, periods)
    return out
