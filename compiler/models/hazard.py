"""The discrete-time churn hazard (PRD §6): a complementary log-log GLM on person-period rows.

One row per person per period they are at risk (see person_periods.py), `event` = 1 on the row
of the period they churn in. The model is

    h(period, x) = P(event in period | at risk) = 1 - exp(-exp(alpha_g(period) + x . beta))

with one baseline term alpha_g per period group g and no separate intercept: the grouped-time
proportional-hazards model (Prentice and Gloeckler 1978), whose exp(beta) are hazard ratios
comparable with a Cox model's. Groups: one per period by default (`min_events=1`); with
`min_events=k` consecutive periods are pooled left to right until each group holds at least k
events (a short remainder joins the last group). A group with no event has baseline hazard 0,
the maximum-likelihood limit (alpha -> -inf); its rows then contribute log(1) = 0 to the
likelihood and nothing to beta, so they are left out of the GLM, as a Cox model ignores times
without an event. Fitted with statsmodels (Binomial family, CLogLog link, IRLS).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FORMAT = "trackplan-hazard/1"
Z95 = 1.959963984540054
MAX_ABS_COEF = 25.0  # |beta| beyond this on the cloglog scale: separation, not an estimate

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


class HazardError(ValueError):
    """The rows cannot support the model (no events, a constant covariate, separation, ...):
    one line saying why; the CLI exits 2 with it."""


@dataclass(frozen=True)
class HazardFit:
    """A fitted grouped-time hazard. `baseline[i]` is the hazard in `periods[i]` at x = 0."""

    names: tuple[str, ...]
    coef: tuple[float, ...]
    std_err: tuple[float, ...]
    hazard_ratio: tuple[float, ...]
    hr_low: tuple[float, ...]  # 95% interval: exp(coef -/+ 1.96 se)
    hr_high: tuple[float, ...]
    periods: tuple[int, ...]
    baseline: tuple[float, ...]
    groups: tuple[int, ...]  # the group index of each period
    n_persons: int
    n_rows: int
    n_events: int
    loglik: float

    def hazard(self, period: npt.ArrayLike, X: npt.ArrayLike) -> Floats:
        """Per-row hazard for periods and covariate rows (n, len(names)). A period beyond the
        last fitted one takes the last period's baseline; before the first, the first's."""
        p = np.asarray(period, dtype=np.int64).reshape(-1)
        x = np.asarray(X, dtype=np.float64).reshape(len(p), len(self.names))
        log_base = self.log_baseline()
        at = np.clip(np.searchsorted(self.periods, p, side="right") - 1, 0, len(self.periods) - 1)
        eta = log_base[at] + x @ np.asarray(self.coef, dtype=np.float64)
        with np.errstate(over="ignore"):
            return -np.expm1(-np.exp(eta))

    def log_baseline(self) -> Floats:
        """alpha per period: log(-log(1 - baseline)), -inf where the baseline hazard is 0."""
        b = np.asarray(self.baseline, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.log(-np.log1p(-b))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": "discrete-time proportional hazards, complementary log-log link",
            "covariates": [
                {
                    "name": n,
                    "coef": c,
                    "std_err": s,
                    "hazard_ratio": hr,
                    "hr_low": lo,
                    "hr_high": hi,
                }
                for n, c, s, hr, lo, hi in zip(
                    self.names,
                    self.coef,
                    self.std_err,
                    self.hazard_ratio,
                    self.hr_low,
                    self.hr_high,
                    strict=True,
                )
            ],
            "baseline": [
                {"period": p, "hazard": b, "group": g}
                for p, b, g in zip(self.periods, self.baseline, self.groups, strict=True)
            ],
            "n_persons": self.n_persons,
            "n_rows": self.n_rows,
            "n_events": self.n_events,
            "loglik": self.loglik,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HazardFit:
        """The inverse of to_json; a wrong format or a missing key raises HazardError."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise HazardError(f"not a hazard model file (expected format {FORMAT!r})")
        try:
            cov = data["covariates"]
            base = data["baseline"]
            fit = cls(
                names=tuple(str(c["name"]) for c in cov),
                coef=tuple(float(c["coef"]) for c in cov),
                std_err=tuple(float(c["std_err"]) for c in cov),
                hazard_ratio=tuple(float(c["hazard_ratio"]) for c in cov),
                hr_low=tuple(float(c["hr_low"]) for c in cov),
                hr_high=tuple(float(c["hr_high"]) for c in cov),
                periods=tuple(int(b["period"]) for b in base),
                baseline=tuple(float(b["hazard"]) for b in base),
                groups=tuple(int(b["group"]) for b in base),
                n_persons=int(data["n_persons"]),
                n_rows=int(data["n_rows"]),
                n_events=int(data["n_events"]),
                loglik=float(data["loglik"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HazardError(f"hazard model file: missing or bad field ({exc})") from None
        if not fit.periods or list(fit.periods) != sorted(set(fit.periods)):
            raise HazardError("hazard model file: baseline periods must be distinct and sorted")
        if any(not 0.0 <= b < 1.0 for b in fit.baseline):
            raise HazardError("hazard model file: a baseline hazard is outside [0, 1)")
        return fit


def period_groups(period: Ints, event: Ints, min_events: int) -> tuple[Ints, Ints]:
    """(sorted distinct periods, group index of each): left-to-right pooling until each group
    holds >= min_events events; a short remainder joins the group before it."""
    periods = np.unique(period)
    if min_events <= 1:
        return periods, np.arange(len(periods), dtype=np.int64)
    counts = np.array([int(event[period == p].sum()) for p in periods])
    groups = np.zeros(len(periods), dtype=np.int64)
    g, held = 0, 0
    for i, c in enumerate(counts):
        groups[i] = g
        held += c
        if held >= min_events:
            g, held = g + 1, 0
    if held < min_events and g > 0 and groups[-1] == g:
        groups[groups == g] = g - 1
    return periods, groups


def _validate(period: Any, event: Any, X: Any, names: list[str]) -> tuple[Ints, Ints, Floats]:
    p = np.asarray(period)
    e = np.asarray(event)
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2:
        raise HazardError(f"X must be a 2-d matrix (rows x covariates); got {x.ndim} dimension(s)")
    if not (len(p) == len(e) == x.shape[0]):
        raise HazardError(
            f"mismatched lengths: period {len(p)}, event {len(e)}, X {x.shape[0]} row(s)"
        )
    if x.shape[1] != len(names) or len(set(names)) != len(names):
        raise HazardError(f"{x.shape[1]} covariate column(s) but names {names!r}")
    if len(p) == 0:
        raise HazardError("no person-period rows")
    pf = p.astype(np.float64)
    if np.isnan(pf).any() or np.isnan(e.astype(np.float64)).any() or not np.isfinite(x).all():
        raise HazardError("NaN or infinite values in period, event or X")
    if (pf != np.round(pf)).any() or (pf < 0).any():
        raise HazardError("periods must be whole numbers >= 0")
    if not np.isin(e, (0, 1)).all():
        raise HazardError("event must be 0 or 1")
    if e.sum() == 0:
        raise HazardError("no events: every row is censored, there is no hazard to fit")
    for j, name in enumerate(names):
        if np.ptp(x[:, j]) == 0:
            raise HazardError(f"covariate {name!r} is constant ({x[0, j]:g} on every row)")
    return p.astype(np.int64), e.astype(np.int64), x


def fit_hazard(
    period: Any,
    event: Any,
    X: Any,
    names: list[str],
    *,
    persons: Any = None,
    min_events: int = 1,
) -> HazardFit:
    """Fit the cloglog hazard to person-period rows. `persons` (one id per row) counts persons;
    without it, persons = rows in the first period of the data. Raises HazardError."""
    # statsmodels and threadpoolctl ship no type information.
    from statsmodels.genmod import families  # type: ignore[import-untyped]
    from statsmodels.genmod.generalized_linear_model import GLM  # type: ignore[import-untyped]
    from statsmodels.tools.sm_exceptions import (  # type: ignore[import-untyped]
        ConvergenceWarning,
        PerfectSeparationWarning,
    )
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    p, e, x = _validate(period, event, X, names)
    periods, groups = period_groups(p, e, min_events)
    row_group = groups[np.searchsorted(periods, p)]
    n_groups = int(groups.max()) + 1
    group_events = np.bincount(row_group, weights=e, minlength=n_groups)
    live = group_events[row_group] > 0
    used = np.flatnonzero(group_events > 0)
    column = np.full(n_groups, -1, dtype=np.int64)
    column[used] = np.arange(len(used))
    # Rows alike in (group, x, event) are one row with a frequency weight: the same likelihood.
    keyed = np.column_stack([row_group[live], x[live], e[live]])
    unique, counts = np.unique(keyed, axis=0, return_counts=True)
    dummies = np.zeros((len(unique), len(used)))
    dummies[np.arange(len(unique)), column[unique[:, 0].astype(np.int64)]] = 1.0
    design = np.hstack([dummies, unique[:, 1:-1]])
    for j, name in enumerate(names):
        if np.ptp(x[live, j]) == 0:
            raise HazardError(f"covariate {name!r} is constant on the rows of periods with events")
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise HazardError(
            "the covariates are collinear with each other or with the period terms; "
            "their effects cannot be told apart"
        )
    model = GLM(
        unique[:, -1],
        design,
        family=families.Binomial(link=families.links.CLogLog()),
        freq_weights=counts.astype(np.float64),
    )
    # One BLAS thread: these matrices are narrow, and threads fighting over 2 busy cores made
    # each IRLS step ~20x slower.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            result = model.fit(maxiter=200, tol=1e-10, wls_method="qr")
        except (PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError) as exc:
            raise HazardError(f"the GLM did not converge (perfect separation?): {exc}") from None
    params = np.asarray(result.params, dtype=np.float64)
    se = np.asarray(result.bse, dtype=np.float64)
    beta, beta_se = params[len(used) :], se[len(used) :]
    if (
        not (np.isfinite(params).all() and np.isfinite(se).all())
        or (np.abs(beta) > MAX_ABS_COEF).any()
    ):
        bad = [n for n, b in zip(names, beta, strict=True) if not abs(b) <= MAX_ABS_COEF]
        raise HazardError(
            "the GLM did not converge to finite estimates (perfect separation"
            + (f" on {', '.join(bad)}" if bad else "")
            + ")"
        )
    alpha = np.full(n_groups, -np.inf)
    alpha[used] = params[: len(used)]
    baseline = -np.expm1(-np.exp(alpha[groups]))
    if persons is not None:
        ids = np.asarray(persons)
        if len(ids) != len(p):
            raise HazardError(f"mismatched lengths: persons {len(ids)}, rows {len(p)}")
        n_persons = len(np.unique(ids))
    else:
        n_persons = int((p == p.min()).sum())
    hr = np.exp(beta)
    return HazardFit(
        names=tuple(names),
        coef=tuple(float(b) for b in beta),
        std_err=tuple(float(s) for s in beta_se),
        hazard_ratio=tuple(float(h) for h in hr),
        hr_low=tuple(math.exp(b - Z95 * s) for b, s in zip(beta, beta_se, strict=True)),
        hr_high=tuple(math.exp(b + Z95 * s) for b, s in zip(beta, beta_se, strict=True)),
        periods=tuple(int(v) for v in periods),
        baseline=tuple(float(b) for b in baseline),
        groups=tuple(int(g) for g in groups),
        n_persons=n_persons,
        n_rows=len(p),
        n_events=int(e.sum()),
        loglik=float(result.llf),
    )
