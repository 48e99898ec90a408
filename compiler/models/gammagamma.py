"""The Gamma-Gamma model of spend per transaction (Fader and Hardie 2013, "The Gamma-Gamma
Model of Monetary Value"), fitted by maximum likelihood, and CLV from it and BG/NBD.

A customer's transaction values are z_i ~ Gamma(p, nu) (shape p, rate nu), independent of the
purchase process, and nu ~ Gamma(q, gamma) across customers. The data per customer are x (the
number of repeat transactions, x > 0) and zbar (their mean value). Then x * zbar ~ Gamma(p x, nu)
and the marginal likelihood of zbar is

    Gamma(p x + q) / (Gamma(p x) Gamma(q)) * gamma^q * zbar^(p x - 1) * x^(p x)
        / (gamma + x zbar)^(p x + q)

and E[Z | x, zbar] = (gamma + x zbar) p / (p x + q - 1): a weighted mean of the population mean
p gamma / (q - 1) and the customer's own zbar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln  # type: ignore[import-untyped]

from compiler.models import bgnbd
from compiler.models.mle import FitError, check_interior, fit_log_params

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def population_mean(self) -> float | None:
        """E[Z] = p gamma / (q - 1), the mean spend of a customer nothing is known about."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else None


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    std_errors: GammaGammaParams
    loglik: float
    customers: int  # customers with x > 0 and zbar > 0 that the fit used
    converged: bool
    zero_spend: int = 0  # repeat buyers whose repeat purchases were all free: left out


def _arrays(x: ArrayLike, zbar: ArrayLike) -> tuple[Vector, Vector]:
    xs = np.atleast_1d(np.asarray(x, dtype=float))
    zs = np.atleast_1d(np.asarray(zbar, dtype=float))
    return np.broadcast_arrays(xs, zs)  # type: ignore[return-value]


def log_likelihood_terms(params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike) -> Vector:
    """Each customer's ln L(p, q, gamma | x, zbar); customers need x > 0 and zbar > 0."""
    p, q, g = params.p, params.q, params.gamma
    xs, zs = _arrays(x, zbar)
    px = p * xs
    out: Vector = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(zs)
        + px * np.log(xs)
        - (px + q) * np.log(g + xs * zs)
    )
    return out


def log_likelihood(params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike) -> float:
    return float(np.sum(log_likelihood_terms(params, x, zbar)))


def fit(x: ArrayLike, zbar: ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters from repeat buyers' (x, zbar).

    Customers with x = 0 carry no spend information and are left out, as in the note; so are
    repeat buyers whose repeat purchases were all free (zbar = 0 has no Gamma density)."""
    xs, zs = _arrays(x, zbar)
    if np.any(zs < 0):
        raise FitError("Gamma-Gamma needs non-negative spend")
    zero_spend = int(np.sum((xs > 0) & (zs == 0)))
    keep = (xs > 0) & (zs > 0)
    xs, zs = xs[keep], zs[keep]
    if xs.size < 3:
        raise FitError(
            f"Gamma-Gamma needs at least 3 customers with a paid repeat purchase, got {xs.size}"
        )

    def negloglik(theta: NDArray[np.float64]) -> float:
        return -log_likelihood(GammaGammaParams(*theta), xs, zs)

    result = fit_log_params(negloglik, np.array([1.0, 1.0, float(np.mean(zs))]))
    p, q, g = result.params
    # p runs off when amounts hardly vary within a customer (a fixed price): no Gamma spread.
    check_interior(
        "Gamma-Gamma",
        {"p": p, "q": q, "gamma": g / float(np.mean(zs))},
        result,
        f"{xs.size} repeat buyers",
    )
    return GammaGammaFit(
        params=GammaGammaParams(*(float(v) for v in result.params)),
        std_errors=GammaGammaParams(*(float(v) for v in result.std_errors)),
        loglik=result.loglik,
        customers=int(xs.size),
        converged=result.converged,
        zero_spend=zero_spend,
    )


def conditional_expected_spend(params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike) -> Vector:
    """E[Z | x, zbar]: the expected mean transaction value; the population mean when x = 0.

    NaN where it does not exist (p x + q <= 1: with q <= 1 a customer with no repeat purchase
    has an infinite expected spend under the fitted prior)."""
    p, q, g = params.p, params.q, params.gamma
    xs, zs = _arrays(x, zbar)
    zs = np.where(xs > 0, zs, 0.0)
    denominator = p * xs + q - 1
    safe = np.where(denominator > 0, denominator, 1.0)
    out: Vector = np.where(denominator > 0, (g + xs * zs) * p / safe, np.nan)
    return out


@dataclass(frozen=True)
class Clv:
    """Undiscounted customer value over a horizon, per customer, in the data's currency."""

    horizon: float  # in the time unit of the BG/NBD fit (weeks for FHL's setup)
    purchases: Vector  # E[Y(horizon) | x, t_x, T]
    spend: Vector  # E[Z | x, zbar]
    value: Vector  # purchases * spend


def clv(
    purchases_model: bgnbd.BgNbdParams,
    spend_model: GammaGammaParams,
    horizon: float,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    zbar: ArrayLike,
) -> Clv:
    """CLV = expected repeat purchases in (T, T + horizon] x expected spend per purchase.

    No discounting: the horizon is short and stated with the figure. The two models are
    independent by assumption (Fader and Hardie 2013 check the correlation of x and zbar)."""
    purchases = bgnbd.conditional_expected_purchases(purchases_model, horizon, x, t_x, T)
    spend = conditional_expected_spend(spend_model, x, zbar)
    return Clv(float(horizon), purchases, spend, purchases * spend)
