"""The BG/NBD model of repeat purchasing (Fader, Hardie and Lee 2005, "Counting your customers
the easy way"), fitted by maximum likelihood.

Per customer the data are x (repeat purchases in the calibration period), t_x (time of the last
repeat purchase, measured from the first purchase; 0 when x = 0) and T (time from the first
purchase to the end of calibration), all in one time unit (weeks in FHL). While active a customer
buys at Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase they drop out with
probability p ~ Beta(a, b). The likelihood (FHL eq. 6) is computed in logs with gammaln, betaln
and logsumexp, so it stays finite for large x and long periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, gammaln, hyp2f1, logsumexp  # type: ignore[import-untyped]

from compiler.models.mle import FitError, check_interior, fit_log_params

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> Vector:
        return np.array([self.r, self.alpha, self.a, self.b])


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    std_errors: BgNbdParams  # delta method from the numerical Hessian of log-parameters
    loglik: float
    customers: int
    converged: bool


def _arrays(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[Vector, Vector, Vector]:
    xs, ts, Ts = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, t_x, T))
    return np.broadcast_arrays(xs, ts, Ts)  # type: ignore[return-value]


def log_likelihood_terms(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Vector:
    """Each customer's log-likelihood ln L(r, alpha, a, b | x, t_x, T) (FHL 2005, eq. 6)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, ts, Ts = _arrays(x, t_x, T)
    common = gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + xs) - betaln(a, b) - (r + xs) * np.log(alpha + Ts)
    repeat = xs > 0
    # The dropped-out branch exists only after a repeat purchase; betaln(a + 1, b - 1) for x = 0
    # could be undefined, so it is evaluated on a safe placeholder and masked.
    xs_safe = np.where(repeat, xs, 1.0)
    dropped = np.where(
        repeat,
        betaln(a + 1, b + xs_safe - 1) - betaln(a, b) - (r + xs) * np.log(alpha + ts),
        -np.inf,
    )
    both = np.stack([alive, dropped])
    result: Vector = common + logsumexp(both, axis=0)
    return result


def log_likelihood(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    terms = log_likelihood_terms(params, x, t_x, T)
    w = np.ones_like(terms) if weights is None else np.asarray(weights, dtype=float)
    return float(np.sum(w * terms))


def _compress(x: Vector, t_x: Vector, T: Vector) -> tuple[Vector, Vector, Vector, Vector]:
    """Unique (x, t_x, T) rows and their counts: the likelihood only depends on these."""
    rows = np.stack([x, t_x, T], axis=1)
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(float)


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters for the customers (x, t_x, T)."""
    xs, ts, Ts = _arrays(x, t_x, T)
    if xs.size < 4:
        raise FitError(f"BG/NBD needs at least 4 customers, got {xs.size}")
    if not np.any(xs > 0):
        raise FitError("no customer made a repeat purchase in the calibration period")
    if np.any(xs < 0) or np.any(ts < 0) or np.any(ts > Ts + 1e-9):
        raise FitError("need x >= 0 and 0 <= t_x <= T for every customer")
    ux, ut, uT, w = _compress(xs, ts, Ts)

    def negloglik(theta: Vector) -> float:
        return -log_likelihood(BgNbdParams(*theta), ux, ut, uT, w)

    # Start from the method-of-moments flavoured guess lifetimes and FHL's spreadsheet use.
    start = np.array([1.0, max(float(np.mean(Ts)), 1e-3), 1.0, 1.0])
    result = fit_log_params(negloglik, start)
    r, alpha, a, b = result.params
    scale_free = {"r": r, "alpha": alpha / float(np.mean(Ts)), "a": a, "b": b}
    repeaters = int(np.sum(xs > 0))
    check_interior("BG/NBD", scale_free, result, f"{xs.size} customers, {repeaters} repeat buyers")
    return BgNbdFit(
        params=BgNbdParams(*(float(v) for v in result.params)),
        std_errors=BgNbdParams(*(float(v) for v in result.std_errors)),
        loglik=result.loglik,
        customers=int(xs.size),
        converged=result.converged,
    )


def expected_purchases(params: BgNbdParams, t: ArrayLike) -> Vector:
    """E[X(t)]: expected repeat purchases in (0, t] for a new customer (FHL eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    ts = np.atleast_1d(np.asarray(t, dtype=float))
    z = ts / (alpha + ts)
    out: Vector = (
        (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + ts)) ** r * hyp2f1(r, b, a + b - 1, z))
    )
    return out


def p_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Vector:
    """P(active at T | x, t_x, T) (FHL 2008 note, eq. 2); 1 for customers with no repeat."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, ts, Ts = _arrays(x, t_x, T)
    log_ratio = (
        np.log(a)
        - np.log(np.maximum(b + xs - 1, 1e-300))
        + (r + xs) * (np.log(alpha + Ts) - np.log(alpha + ts))
    )
    odds = np.where(xs > 0, np.exp(np.minimum(log_ratio, 700.0)), 0.0)
    out: Vector = 1.0 / (1.0 + odds)
    return out


def conditional_expected_purchases(
    params: BgNbdParams, h: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Vector:
    """E[Y(h) | x, t_x, T]: expected repeat purchases in (T, T + h] (FHL 2005, eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    xs, ts, Ts = _arrays(x, t_x, T)
    z = h / (alpha + Ts + h)
    # FHL's ((alpha+T)/(alpha+T+h))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) after Euler's transformation
    # 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z): the same number, but its parameters
    # no longer grow with x, so it neither overflows nor gives 0 * inf for heavy buyers.
    base = 1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + xs - 1, z)
    scale = (a + b + xs - 1) / (a - 1)
    out: Vector = scale * base * p_alive(params, xs, ts, Ts)
    return out


__all__ = [
    "BgNbdFit",
    "BgNbdParams",
    "FitError",
    "conditional_expected_purchases",
    "expected_purchases",
    "fit",
    "log_likelihood",
    "log_likelihood_terms",
    "p_alive",
]
