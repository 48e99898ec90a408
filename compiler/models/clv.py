"""Customer lifetime value from a customer summary: BG/NBD + Gamma-Gamma, with a holdout check.

`analyse(summary, horizon_days)` fits both models, predicts each customer's repeat purchases and
spend over the horizon (CLV = E[purchases in (T, T + horizon]] x E[spend per purchase],
undiscounted, in the data's currency) and, when the summary has a holdout period, compares the
predicted repeat purchases there with the actual ones, in total and by calibration frequency
(Fader, Hardie and Lee 2005, figure 4). `ClvResult.to_json()` is `trackplan clv --format json`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compiler.models import bgnbd, gammagamma
from compiler.models.clv_data import CustomerSummary
from compiler.models.mle import FitError

UNITS = {1: "days", 7: "weeks"}
TOP_BUCKET = 7  # frequencies of 7 and more share one holdout row, as in FHL's figure 4


@dataclass(frozen=True)
class HoldoutBucket:
    label: str  # "0" .. "6", "7+": repeat purchases in calibration
    customers: int
    actual: float  # mean repeat purchases in the holdout
    predicted: float  # mean E[Y(holdout) | x, t_x, T]


@dataclass(frozen=True)
class Holdout:
    length: float  # in the time unit
    actual: float  # total repeat purchases in the holdout
    predicted: float
    actual_value: float  # total spend in the holdout
    predicted_value: float  # sum of CLV over the holdout length
    buckets: tuple[HoldoutBucket, ...]
    predicted_per_customer: NDArray[np.float64]


@dataclass(frozen=True)
class ClvResult:
    summary: CustomerSummary
    bgnbd: bgnbd.BgNbdFit
    gamma_gamma: gammagamma.GammaGammaFit
    horizon_days: int
    clv: gammagamma.Clv
    p_alive: NDArray[np.float64]
    holdout: Holdout | None

    @property
    def unit(self) -> str:
        return UNITS.get(self.summary.unit_days, f"{self.summary.unit_days}-day periods")

    def to_json(self) -> dict[str, Any]:
        b, g = self.bgnbd.params, self.gamma_gamma.params
        bs, gs = self.bgnbd.std_errors, self.gamma_gamma.std_errors
        s = self.summary
        out: dict[str, Any] = {
            "bgnbd": {"r": b.r, "alpha": b.alpha, "a": b.a, "b": b.b, "loglik": self.bgnbd.loglik},
            "gamma_gamma": {"p": g.p, "q": g.q, "gamma": g.gamma},
            "customers": len(s.customers),
            "std_errors": {
                "bgnbd": {"r": bs.r, "alpha": bs.alpha, "a": bs.a, "b": bs.b},
                "gamma_gamma": {"p": gs.p, "q": gs.q, "gamma": gs.gamma},
            },
            "definitions": {
                "time_unit": self.unit,
                "calibration_end": s.calibration_end.isoformat(),
                "first_day": s.first_day.isoformat(),
                "last_day": s.last_day.isoformat(),
                "repeat_buyers": int(np.sum(s.x > 0)),
                "gamma_gamma_customers": self.gamma_gamma.customers,
                "gamma_gamma_left_out_zero_spend": self.gamma_gamma.zero_spend,
                "later_customers": s.later_customers,
                "gamma_gamma_loglik": self.gamma_gamma.loglik,
                "spend_frequency_correlation": spend_frequency_correlation(s),
            },
            "clv": {
                "horizon_days": self.horizon_days,
                "discounting": "none",
                "total": float(np.nansum(self.clv.value)),
                "mean": float(np.nansum(self.clv.value))
                / max(1, int(np.sum(~np.isnan(self.clv.value)))),
                "customers_without_spend_estimate": int(np.sum(np.isnan(self.clv.value))),
                "expected_purchases": float(np.sum(self.clv.purchases)),
                "mean_p_alive": float(np.mean(self.p_alive)),
            },
        }
        if self.holdout is not None:
            h = self.holdout
            out["holdout"] = {
                "end": s.holdout_end.isoformat() if s.holdout_end else None,
                "length": h.length,
                "actual_repeat_purchases": h.actual,
                "predicted_repeat_purchases": h.predicted,
                "actual_value": h.actual_value,
                "predicted_value": h.predicted_value,
                "by_calibration_frequency": [
                    {
                        "x": k.label,
                        "customers": k.customers,
                        "actual_mean": k.actual,
                        "predicted_mean": k.predicted,
                    }
                    for k in h.buckets
                ],
            }
        return out


class DegenerateFit(FitError):
    """BG/NBD's fitted parameters give forecasts that are not numbers: a parameter ran far off
    (e.g. a ~ 1e5, still inside mle.RUNAWAY) and the closed forms overflow to inf * 0."""


def check_forecast(params: bgnbd.BgNbdParams, days: float, purchases: NDArray[np.float64]) -> None:
    """DegenerateFit when BG/NBD's expected purchases over `days` days are not finite for some
    customer (`clv` and `ltv-compare` refuse such a fit rather than print NaN)."""
    bad = int(np.sum(~np.isfinite(purchases)))
    if bad:
        b = params
        raise DegenerateFit(
            f"BG/NBD's expected purchases over {days:g} days are not finite for {bad} "
            f"customers (fitted r={b.r:.3g}, alpha={b.alpha:.3g}, a={b.a:.3g}, b={b.b:.3g}: a "
            "degenerate fit)"
        )


def expected_purchases(
    fit: bgnbd.BgNbdFit, days: float, summary: CustomerSummary
) -> NDArray[np.float64]:
    """E[repeat purchases in (T, T + days]] per customer (`days` in days), checked finite."""
    s = summary
    with np.errstate(invalid="ignore", over="ignore"):  # a degenerate fit: refused in the check
        out = bgnbd.conditional_expected_purchases(fit.params, days / s.unit_days, s.x, s.t_x, s.T)
    check_forecast(fit.params, days, out)
    return out


def spend_frequency_correlation(summary: CustomerSummary) -> float | None:
    """Pearson correlation of x and zbar among paying repeat buyers: Gamma-Gamma assumes spend
    is independent of frequency, so this should be near 0 (Fader and Hardie 2013 check it)."""
    paid = (summary.x > 0) & (summary.zbar > 0)
    if paid.sum() < 3 or np.std(summary.x[paid]) == 0 or np.std(summary.zbar[paid]) == 0:
        return None
    return float(np.corrcoef(summary.x[paid], summary.zbar[paid])[0, 1])


def _holdout(
    summary: CustomerSummary, fit: bgnbd.BgNbdFit, spend: NDArray[np.float64]
) -> Holdout | None:
    if summary.holdout_end is None:
        return None
    days = (summary.holdout_end - summary.calibration_end).days
    s = summary
    predicted = expected_purchases(fit, days, s)
    buckets = []
    capped = np.minimum(s.x, TOP_BUCKET)
    for k in range(TOP_BUCKET + 1):
        mask = capped == k
        if not np.any(mask):
            continue
        label = f"{k}+" if k == TOP_BUCKET else str(k)
        buckets.append(
            HoldoutBucket(
                label,
                int(mask.sum()),
                float(np.mean(s.holdout_x[mask])),
                float(np.mean(predicted[mask])),
            )
        )
    return Holdout(
        length=days / s.unit_days,
        actual=float(np.sum(s.holdout_x)),
        predicted=float(np.sum(predicted)),
        actual_value=float(np.sum(s.holdout_value)),
        predicted_value=float(np.nansum(predicted * spend)),
        buckets=tuple(buckets),
        predicted_per_customer=predicted,
    )


def analyse(summary: CustomerSummary, horizon_days: int = 365) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma to the summary; FitError when the data cannot support them
    (DegenerateFit when the fitted BG/NBD forecasts are not numbers)."""
    s = summary
    purchases = bgnbd.fit(s.x, s.t_x, s.T)
    spend_fit = gammagamma.fit(s.x, s.zbar)
    horizon = horizon_days / s.unit_days
    with np.errstate(invalid="ignore", over="ignore"):  # a degenerate fit: refused in the check
        value = gammagamma.clv(purchases.params, spend_fit.params, horizon, s.x, s.t_x, s.T, s.zbar)
    check_forecast(purchases.params, horizon_days, value.purchases)
    return ClvResult(
        summary=s,
        bgnbd=purchases,
        gamma_gamma=spend_fit,
        horizon_days=horizon_days,
        clv=value,
        p_alive=bgnbd.p_alive(purchases.params, s.x, s.t_x, s.T),
        holdout=_holdout(s, purchases, value.spend),
    )


def write_scores(result: ClvResult, path: Path) -> None:
    """One row per customer: the summary, P(alive), expected purchases, spend and CLV over the
    horizon, and with a holdout its predicted and actual repeat purchases and actual spend (CSV).
    """
    s, c, h = result.summary, result.clv, result.holdout
    columns: dict[str, NDArray[np.float64]] = {
        "x": s.x,
        "t_x": s.t_x,
        "T": s.T,
        "zbar": s.zbar,
        "p_alive": result.p_alive,
        "expected_purchases": c.purchases,
        "expected_spend": c.spend,
        "clv": c.value,
    }
    if h is not None:
        columns |= {
            "holdout_predicted": h.predicted_per_customer,
            "holdout_actual": s.holdout_x,
            "holdout_value": s.holdout_value,
        }
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["customer", *columns])
        for i, customer in enumerate(s.customers):
            out.writerow([customer, *(f"{v[i]:.6g}" for v in columns.values())])
