"""`train` for a `kind: hazard` model: person-period rows from an `every` snapshot, fitted with the
discrete-time cloglog hazard (compiler/models/hazard.py), beside a logistic baseline.

Period k of a person starts at their k-th snapshot; its covariates are the features at that
moment (time-varying), its event is the label over the period (the label looks as far ahead as
the snapshots are apart). Only periods whose window is over count, and a person's periods stop
at their first event. The split is by time, as for the other kinds (train.time_split); numeric
features are the covariates (a text feature cannot enter a hazard ratio and is left out, named
in `ignored`), missing values take the training rows' median.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from compiler.models import metrics
from compiler.models.dataset import Floats, Snapshots, fit_encoder
from compiler.models.train import (
    Importance,
    TrainRefused,
    TrainResult,
    _check_minimum,
    baseline,
    predict,
    time_split,
)
from compiler.plan.model_models import ModelSpec


@dataclass(frozen=True)
class HazardModel:
    """A fitted hazard as the other estimators look: predict_proba over [covariates | period]."""

    fit: Any  # compiler.models.hazard.HazardFit
    columns: tuple[int, ...]  # the encoder columns that are covariates
    medians: tuple[float, ...]

    def covariates(self, X: Floats) -> Floats:
        x = X[:, list(self.columns)].copy()
        for j, median in enumerate(self.medians):
            x[np.isnan(x[:, j]), j] = median
        return x

    def predict_proba(self, X: Floats) -> Floats:
        p = self.fit.hazard(X[:, -1].astype(np.int64), self.covariates(X[:, :-1]))
        return np.column_stack([1 - p, p])


def periods(snaps: Snapshots) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """(rows kept, their period): observed periods up to each person's first event. The rows
    come ordered by person, then snapshot time, so a person's k-th row is their period k."""
    keep: list[int] = []
    period: list[int] = []
    k, person, done = 0, None, False
    for i, who in enumerate(snaps.persons):
        if who != person:
            k, person, done = 0, who, False
        k += 1
        if done or not snaps.observed[i]:
            continue
        keep.append(i)
        period.append(k)
        done = bool(snaps.label[i])
    return np.array(keep, dtype=np.intp), np.array(period, dtype=np.int64)


def with_period(X: Floats, period: npt.NDArray[np.int64]) -> Floats:
    return np.column_stack([X, period.astype(float)])


def train_hazard(snaps: Snapshots, spec: ModelSpec, seed: int) -> TrainResult:
    from compiler.models.hazard import HazardError, fit_hazard

    kept, period = periods(snaps)
    rows = snaps.take(kept)
    split = time_split(rows, spec.label.days)
    train_rows, hold = rows.take(split.train), rows.take(split.holdout)
    counts = _check_minimum(spec, train_rows, hold)
    encoder = fit_encoder(spec, train_rows)
    numeric = tuple(j for j, f in enumerate(encoder.features) if f not in encoder.levels)
    if not numeric:
        raise TrainRefused(f"model '{spec.name}': a hazard needs at least one numeric feature")
    X = with_period(encoder.matrix(train_rows), period[split.train])
    X_hold = with_period(encoder.matrix(hold), period[split.holdout])
    medians = tuple(
        float(np.nanmedian(X[:, j])) if np.isfinite(X[:, j]).any() else 0.0 for j in numeric
    )
    names = [encoder.features[j] for j in numeric]
    shell = HazardModel(None, numeric, medians)
    try:
        fit = fit_hazard(
            X[:, -1].astype(np.int64),
            train_rows.label.astype(np.int64),
            shell.covariates(X[:, :-1]),
            names,
            persons=np.array(train_rows.persons),
        )
    except HazardError as exc:
        raise TrainRefused(f"model '{spec.name}': the hazard cannot be fitted: {exc}") from None
    model = HazardModel(fit, numeric, medians)
    base = baseline(encoder, False)
    base.fit(X[:, :-1], train_rows.label)
    y = hold.label
    found = tuple(
        Importance(n, float(c), float(se), "+" if c > 0 else "-" if c < 0 else "none")
        for n, c, se in zip(fit.names, fit.coef, fit.std_err, strict=True)
    )
    counts["periods"] = int(period.max()) if len(period) else 0
    return TrainResult(
        spec,
        encoder,
        split,
        counts,
        metrics.classification(y, predict(model, X_hold, False)),
        metrics.classification(y, predict(base, X_hold[:, :-1], False)),
        tuple(sorted(found, key=lambda i: (-abs(i.mean), i.feature))),
        {"model": model, "baseline": base},
        None,
        hazard=fit.to_json(),
    )


def latest(snaps: Snapshots) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """Each person's latest snapshot (the period they are in now) and its period number."""
    index: dict[str, int] = {}
    count: dict[str, int] = {}
    for i, who in enumerate(snaps.persons):
        index[who] = i
        count[who] = count.get(who, 0) + 1
    rows = np.array(list(index.values()), dtype=np.intp)
    return rows, np.array([count[w] for w in index], dtype=np.int64)
