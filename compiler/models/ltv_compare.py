"""`trackplan ltv-compare` as a library: BG/NBD + Gamma-Gamma against the plan's revenue
regression models, on one holdout, over the same persons.

For a calibration end C (a date; "by C" is every event before the next midnight, UTC) and a
horizon of N days:

- persons: everyone with at least one revenue transaction (the plan's revenue events, in the
  chosen currency, value >= 0) on or before C, keyed as `rates` and `clv` key them. These are the
  persons BG/NBD applies to; anyone whose first purchase comes later is left out of both methods.
- actual: each person's net revenue in (C, C + N] (revenue events minus refunds, in the chosen
  currency): the plan's revenue label at a snapshot at the end of C.
- BG/NBD + Gamma-Gamma, fitted on transactions up to C (purchases per day, time in weeks, as
  `trackplan clv`): E[repeat purchases in (C, C + N]] x E[spend per purchase]. BG/NBD predicts
  REPEAT purchases; every purchase after C by a person who bought by C is a repeat purchase, so
  this is their whole predicted revenue in the window (gross: refunds are not modelled). Where
  Gamma-Gamma's expected spend does not exist (q <= 1 and no repeat purchase) the observed mean
  repeat spend stands in, and the result says for how many persons.
- ML: the plan's regression model whose revenue label is N days (`train`'s gradient boosting,
  Poisson loss), trained only on the plan's own snapshots whose label window ends by C (snapshot
  + N days <= the end of C), so no label it learns from reaches into the holdout; then scored on
  every person's features at the end of C. With `rolling`, its training snapshots are instead
  like the holdout's: at the end of C - N days and every ROLLING_STEP days before, each over the
  persons with a transaction by then (the plan's snapshots, a fixed time after a first event,
  describe new persons; the holdout's are customers of any age).
- currency: `--currency`, else the features' rule (compiler/models/features.py CURRENCY_RULE).

Metrics per method and horizon: MAE, RMSE, predicted and actual totals with the bias (predicted
/ actual - 1, in %), Spearman's rank correlation (average ranks for ties) and the top-decile
capture: the share of the actual holdout revenue held by the ceil(10%) persons predicted highest
(ties broken by person id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb
import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from compiler.models.clv import DegenerateFit, analyse, expected_purchases
from compiler.models.clv_data import COHORT_SQL, TransactionsError, summarize
from compiler.models.clv_plan import load_plan_transactions
from compiler.models.dataset import Floats, Snapshots, fit_encoder, load_snapshots
from compiler.models.ltv_metrics import Metrics, metrics
from compiler.models.ltv_ml import (
    CompareRefused,
    majority_currency,
    regression_models,
    sql_time,
    training_rows,
)
from compiler.models.train import TrainRefused, fit_regressor, predict
from compiler.plan.model import Plan
from compiler.plan.model_models import ModelSpec

MIN_CUSTOMERS = 50
UNIT_DAYS = 7


@dataclass(frozen=True)
class Horizon:
    days: int
    model: str  # the plan's regression model for it
    holdout_end: date
    actual: Floats  # per person, in Comparison.persons order
    bgnbd: Floats
    ml: Floats
    bgnbd_metrics: Metrics
    ml_metrics: Metrics
    train_rows: int
    train_positives: int
    train_snapshots: Floats  # the training snapshots' times, epoch seconds (the no-leakage check)
    train_label_end: str | None  # the latest end of a training label window
    actual_gross: float  # the holdout revenue before refunds


@dataclass(frozen=True)
class Comparison:
    calibration_end: date
    snapshot_at: datetime  # the end of the calibration end day
    as_of: datetime  # the last event
    currency: str
    other_currencies: dict[str, int]
    persons: tuple[str, ...]
    bgnbd_params: dict[str, float]
    gamma_gamma_params: dict[str, float]
    spend_fallback: int  # persons whose expected spend is the observed mean (see module doc)
    horizons: tuple[Horizon, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "snapshot_at": self.snapshot_at.isoformat(),
            "last_event": self.as_of.isoformat(),
            "currency": self.currency,
            "other_currencies_left_out": self.other_currencies,
            "persons": len(self.persons),
            "bgnbd": self.bgnbd_params,
            "gamma_gamma": self.gamma_gamma_params,
            "spend_fallback_persons": self.spend_fallback,
            "horizons": [
                {
                    "days": h.days,
                    "model": h.model,
                    "holdout_end": h.holdout_end.isoformat(),
                    "actual_total": float(h.actual.sum()),
                    "actual_gross_total": h.actual_gross,
                    "ml_training": {
                        "rows": h.train_rows,
                        "non_zero_labels": h.train_positives,
                        "label_windows_end_by": h.train_label_end,
                    },
                    "metrics": {
                        "bgnbd": vars(h.bgnbd_metrics),
                        "ml": vars(h.ml_metrics),
                    },
                }
                for h in self.horizons
            ],
        }


def compare(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    label: str,
    calibration_end: date,
    horizons: tuple[int, ...],
    currency: str | None = None,
    seed: int = 0,
    rolling: bool = False,
) -> Comparison:
    """The comparison of the module doc on `con`'s `events`; CompareRefused, TransactionsError
    or FitError (from the BG/NBD fit) when the data cannot support it."""
    models = regression_models(plan)
    missing = [n for n in horizons if n not in models]
    if missing:
        have = ", ".join(f"{n} ({m.name})" for n, m in sorted(models.items())) or "none"
        raise CompareRefused(
            f"the plan has no regression model with a {missing[0]}-day revenue label "
            f"(horizons it has: {have})"
        )
    if currency is None:
        currency = majority_currency(con, plan)
        if currency is None:
            raise CompareRefused(f"{label}: no revenue events with a value in the export(s)")
    got = load_plan_transactions(con, plan, label, currency)
    end = datetime.combine(calibration_end + timedelta(days=1), time()) - timedelta(microseconds=1)
    row = con.execute("SELECT max(timezone('UTC', timestamp)) FROM events").fetchone()
    as_of: datetime | None = row[0] if row else None
    if as_of is None:
        raise CompareRefused(f"{label}: the export(s) hold no events")
    for n in horizons:
        if end + timedelta(days=n) > as_of:
            raise CompareRefused(
                f"{label}: a {n}-day holdout after {calibration_end} ends "
                f"{calibration_end + timedelta(days=n)}, after the last event ({as_of}); choose "
                "an earlier --calibration-end or shorter --horizons"
            )
    summary = summarize(con, label, calibration_end, None, UNIT_DAYS)
    persons = summary.customers
    if len(persons) < MIN_CUSTOMERS:
        raise CompareRefused(
            f"{label}: {len(persons)} persons bought (in {currency or 'no currency'}) by "
            f"{calibration_end}; the comparison needs at least {MIN_CUSTOMERS}"
        )
    trains = {n: training_rows(con, plan, models[n], end, currency, rolling) for n in horizons}
    try:
        fit = analyse(summary, max(horizons))
        purchases = {
            n: (
                fit.clv.purchases
                if n == fit.horizon_days
                else expected_purchases(fit.bgnbd, n, summary)
            )
            for n in horizons
        }
    except DegenerateFit as exc:
        raise CompareRefused(f"{label}: {exc}; choose a later --calibration-end") from None
    spend = fit.clv.spend  # Gamma-Gamma's E[spend per purchase]; NaN where it does not exist
    unknown = np.isnan(spend)
    repeat = summary.x > 0
    mean_spend = float(np.sum(summary.zbar * summary.x) / max(1.0, float(np.sum(summary.x))))
    spend = np.where(unknown, mean_spend if repeat.any() else 0.0, spend)
    gross = _gross_holdout(con, persons, calibration_end, horizons)
    out = [
        _horizon(
            con,
            plan,
            models[n],
            persons,
            end,
            currency,
            seed,
            trains[n],
            purchases[n] * spend,
            gross[n],
        )
        for n in horizons
    ]
    b, g = fit.bgnbd.params, fit.gamma_gamma.params
    return Comparison(
        calibration_end=calibration_end,
        snapshot_at=end,
        as_of=as_of,
        currency=currency,
        other_currencies=got.other_currencies,
        persons=persons,
        bgnbd_params={"r": b.r, "alpha": b.alpha, "a": b.a, "b": b.b},
        gamma_gamma_params={"p": g.p, "q": g.q, "gamma": g.gamma},
        spend_fallback=int(unknown.sum()),
        horizons=tuple(out),
    )


def _horizon(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    spec: ModelSpec,
    persons: tuple[str, ...],
    end: datetime,
    currency: str,
    seed: int,
    train: Snapshots,
    bg: Floats,
    gross: float,
) -> Horizon:
    """One horizon: the ML model trained and scored, both methods' metrics (`bg`: BG/NBD's
    forecast per person; `gross`: the holdout revenue before refunds)."""
    n = spec.label.days
    encoder = fit_encoder(spec, train)
    now = load_snapshots(con, plan, spec, currency, sql_time(end))
    index = {p: i for i, p in enumerate(now.persons)}
    take = np.array([index[p] for p in persons], dtype=np.intp)
    now = now.take(take)
    with threadpool_limits(limits=1, user_api="openmp"):  # see train.train
        try:
            model = fit_regressor(encoder, encoder.matrix(train), train.label, seed)
        except TrainRefused as exc:
            raise CompareRefused(f"model '{spec.name}': {exc}") from None
        ml = predict(model, encoder.matrix(now), True)
    last = train.at.max() + np.timedelta64(n, "D") if len(train) else None
    return Horizon(
        days=n,
        model=spec.name,
        holdout_end=end.date() + timedelta(days=n),
        actual=now.label,
        bgnbd=bg,
        ml=ml,
        bgnbd_metrics=metrics(now.label, bg, persons),
        ml_metrics=metrics(now.label, ml, persons),
        train_rows=len(train),
        train_positives=int(np.count_nonzero(train.label > 0)),
        train_snapshots=train.at.astype("datetime64[us]").astype("int64") / 1e6,
        train_label_end=None if last is None else str(last).replace("T", " "),
        actual_gross=gross,
    )


def _gross_holdout(
    con: duckdb.DuckDBPyConnection,
    persons: tuple[str, ...],
    calibration_end: date,
    horizons: tuple[int, ...],
) -> dict[int, float]:
    """The holdout revenue before refunds over each horizon, of the cohort's purchase days in
    (C, C + n] (as `summarize` sums it: per person, then over persons in their order), all
    horizons in one query."""
    sums = ", ".join(
        f"coalesce(sum(amount) FILTER (WHERE day > $cal AND day <= $cal + {n}), 0)"
        for n in horizons
    )
    rows = con.execute(
        f"{COHORT_SQL}SELECT customer, {sums}\nFROM cohort\nGROUP BY customer\nORDER BY customer",
        {"cal": calibration_end},
    ).fetchall()
    assert tuple(str(r[0]) for r in rows) == persons
    return {
        n: float(np.asarray([r[i] for r in rows], dtype=float).sum())
        for i, n in enumerate(horizons, 1)
    }


__all__ = ["CompareRefused", "Comparison", "Horizon", "Metrics", "TransactionsError", "compare"]
