"""`trackplan train` as a library: person snapshots -> a time-based split -> a calibrated gradient-
boosting model beside a linear baseline -> holdout metrics and permutation importances.

- Only snapshots whose label window is over (label_observed) are used.
- Split by snapshot time: the holdout is the latest HOLDOUT_SHARE of them (snapshot_at > cut);
  training rows end a label horizon before the cut (snapshot_at <= cut - horizon), so no training
  label window overlaps the holdout's and nothing of the holdout's future is learned.
- Classification: HistGradientBoostingClassifier fitted on the earlier part of the training rows
  and calibrated (sigmoid, isotonic from ISOTONIC_MIN rows) on the latest CALIBRATION_SHARE of
  them; baseline: logistic regression on all training rows. Regression:
  HistGradientBoostingRegressor beside ridge regression.
- Regression predictions are never negative. The boosting uses the Poisson loss (log link: every
  prediction is exp(...) > 0; the loss suits a skewed non-negative amount), fitted on labels
  clipped at 0 (a net revenue label is below 0 only when a refund in the window reverses a
  purchase made before the snapshot; their number is in counts["negative_labels"]). The linear
  baseline (ridge) can extrapolate below 0; `predict` clips it at 0, since no person is expected
  to bring negative revenue, and a clipped forecast is never further from a label >= 0.
- Refused (TrainRefused) below the model's min_positives positives (non-zero labels for a
  regression) in the training rows or the holdout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import spearmanr  # type: ignore[import-untyped]
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # type: ignore[import-untyped]
from sklearn.frozen import FrozenEstimator  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.inspection import permutation_importance  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression, Ridge  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline, make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from compiler.models import metrics
from compiler.models.dataset import Encoder, Floats, Snapshots, fit_encoder
from compiler.plan.model_models import ModelSpec

HOLDOUT_SHARE = 0.25
CALIBRATION_SHARE = 0.25
ISOTONIC_MIN = 2000
Step = Callable[[str], None]


class TrainRefused(ValueError):
    """Too little data to train or judge the model honestly; the message says what is missing."""


@dataclass(frozen=True)
class Split:
    cut: np.datetime64  # holdout: snapshot_at > cut
    train_end: np.datetime64  # training rows: snapshot_at <= cut - horizon
    train: npt.NDArray[np.intp]
    holdout: npt.NDArray[np.intp]


@dataclass(frozen=True)
class Importance:
    feature: str
    mean: float  # drop in the holdout score when the feature is shuffled
    std: float
    direction: str  # "+" raises the prediction, "-" lowers it, or the level it is highest at


@dataclass(frozen=True)
class TrainResult:
    spec: ModelSpec
    encoder: Encoder
    split: Split
    counts: dict[str, int]
    model_metrics: Any  # ClassificationMetrics | RegressionMetrics
    baseline_metrics: Any
    importances: tuple[Importance, ...]
    estimators: dict[str, Any]
    calibration_method: str | None
    hazard: dict[str, Any] | None = None  # a hazard model's fit: hazard ratios, baseline


def time_split(snaps: Snapshots, horizon_days: int, share: float = HOLDOUT_SHARE) -> Split:
    """Indices of training and holdout rows among the observed snapshots (see the module doc)."""
    observed = np.flatnonzero(snaps.observed)
    if len(observed) < 4:
        raise TrainRefused(f"only {len(observed)} person snapshots have a complete label window")
    times = snaps.at[observed].astype("int64")
    cut = np.datetime64(int(np.quantile(times, 1 - share, method="lower")), "us")
    train_end = cut - np.timedelta64(horizon_days, "D")
    train = observed[snaps.at[observed] <= train_end]
    holdout = observed[snaps.at[observed] > cut]
    return Split(cut, train_end, train, holdout)


def _positives(spec: ModelSpec, label: Floats) -> int:
    return int(np.count_nonzero(label)) if spec.kind == "regression" else int(label.sum())


def _check_minimum(spec: ModelSpec, train: Snapshots, holdout: Snapshots) -> dict[str, int]:
    counts = {
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "train_positives": _positives(spec, train.label),
        "holdout_positives": _positives(spec, holdout.label),
    }
    what = "non-zero labels" if spec.kind == "regression" else "positives"
    for part in ("train", "holdout"):
        n = counts[f"{part}_positives"]
        if n < spec.min_positives:
            raise TrainRefused(
                f"model '{spec.name}': {n} {what} in the {part} rows "
                f"({counts[f'{part}_rows']} person snapshots); it needs at least "
                f"{spec.min_positives} (min_positives) in both the training rows and the "
                "holdout. Use a longer or larger export."
            )
    if spec.kind != "regression" and counts["train_positives"] == counts["train_rows"]:
        raise TrainRefused(f"model '{spec.name}': every training label is positive")
    return counts


def baseline(encoder: Encoder, regression: bool) -> Pipeline:
    """Imputed, scaled numbers and one-hot categories into a linear model."""
    mask = encoder.categorical
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
        OneHotEncoder(handle_unknown="ignore"),
    )
    columns = ColumnTransformer(
        [
            ("numeric", numeric, np.flatnonzero(~mask)),
            ("category", categories, np.flatnonzero(mask)),
        ]
    )
    linear = Ridge(alpha=1.0) if regression else LogisticRegression(max_iter=2000)
    return Pipeline([("columns", columns), ("linear", linear)])


def _boosting(encoder: Encoder, regression: bool, seed: int) -> Any:
    mask = encoder.categorical
    cats = mask if mask.any() else None
    kind = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    loss = {"loss": "poisson"} if regression else {}
    # Small trees and early stopping on a fifth of the fitting rows: with a few thousand rows
    # and dozens of features, 31-leaf trees for a fixed 200 rounds overfit (on synth's known
    # purchase model, 200,000 people: holdout AUC 0.730 against 0.753 here; the truth's 0.775).
    return kind(
        categorical_features=cats,
        max_iter=500,
        learning_rate=0.05,
        max_leaf_nodes=8,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
        random_state=seed,
        **loss,
    )


def fit_regressor(encoder: Encoder, X: Floats, y: Floats, seed: int = 0) -> Any:
    """The gradient boosting of a regression model (Poisson loss) on labels clipped at 0."""
    if not np.any(y > 0):
        raise TrainRefused("every regression label is 0 or below: nothing to learn")
    return _boosting(encoder, True, seed).fit(X, np.maximum(y, 0.0))


def predict(estimator: Any, X: Floats, regression: bool) -> Floats:
    if regression:  # see the module doc: a person's expected revenue is not below 0
        raw: Floats = np.asarray(estimator.predict(X), dtype=float)
        return np.maximum(raw, 0.0)
    return np.asarray(estimator.predict_proba(X)[:, 1], dtype=float)


def _direction(x: Floats, pred: Floats, levels: tuple[str, ...] | None) -> str:
    ok = ~np.isnan(x)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0:
        return "none"
    if levels is not None:
        codes = np.unique(x[ok])
        means = [pred[ok][x[ok] == c].mean() for c in codes]
        best = int(codes[int(np.argmax(means))])
        return f"highest at {levels[best] if best < len(levels) else 'other'}"
    rho = spearmanr(x[ok], pred[ok]).statistic
    return "none" if not np.isfinite(rho) or rho == 0 else ("+" if rho > 0 else "-")


def importances(
    estimator: Any, encoder: Encoder, X: Floats, y: Floats, regression: bool, seed: int
) -> tuple[Importance, ...]:
    """Permutation importances on the holdout, largest first, each with its direction (the sign
    of the Spearman correlation between the feature and the prediction)."""
    scoring = "r2" if regression else "roc_auc"
    found = permutation_importance(estimator, X, y, scoring=scoring, n_repeats=5, random_state=seed)
    pred = predict(estimator, X, regression)
    out = [
        Importance(
            name,
            float(found.importances_mean[j]),
            float(found.importances_std[j]),
            _direction(X[:, j], pred, encoder.levels.get(name)),
        )
        for j, name in enumerate(encoder.features)
    ]
    return tuple(sorted(out, key=lambda i: (-i.mean, i.feature)))


def train(
    snaps: Snapshots,
    spec: ModelSpec,
    seed: int = 0,
    step: Step | None = None,
    with_importances: bool = True,
) -> TrainResult:
    """Fit the model and its baseline on `snaps`; TrainRefused when there is too little data.
    `with_importances=False` leaves the permutation importances out (an empty tuple).

    OpenMP is held to one thread: person snapshots are small, and on a busy machine the
    boosting's spinning worker threads made a one-second fit take a minute."""
    with threadpool_limits(limits=1, user_api="openmp"):
        return _train(snaps, spec, seed, step, with_importances)


def _train(
    snaps: Snapshots, spec: ModelSpec, seed: int, step: Step | None, with_importances: bool
) -> TrainResult:
    say = step or (lambda _: None)
    if spec.kind == "hazard":
        from compiler.models.train_hazard import train_hazard

        say("fitting the hazard")
        return train_hazard(snaps, spec, seed)
    regression = spec.kind == "regression"
    split = time_split(snaps, spec.label.days)
    train_rows, hold = snaps.take(split.train), snaps.take(split.holdout)
    counts = _check_minimum(spec, train_rows, hold)
    encoder = fit_encoder(spec, train_rows)
    X, y = encoder.matrix(train_rows), train_rows.label
    X_hold, y_hold = encoder.matrix(hold), hold.label
    say("fitting the baseline")
    base = baseline(encoder, regression).fit(X, y)
    say("fitting gradient boosting")
    method = None
    if regression:
        counts["negative_labels"] = int(np.sum(y < 0))
        model = fit_regressor(encoder, X, y, seed)
    else:
        order = np.argsort(train_rows.at, kind="stable")
        n_cal = max(1, int(len(order) * CALIBRATION_SHARE))
        fit_i, cal_i = order[:-n_cal], order[-n_cal:]
        if len(set(y[cal_i])) < 2 or len(set(y[fit_i])) < 2:
            raise TrainRefused(
                f"model '{spec.name}': the calibration slice (the latest {CALIBRATION_SHARE:.0%} "
                "of the training rows) or the rest holds only one class"
            )
        boosted = _boosting(encoder, False, seed).fit(X[fit_i], y[fit_i])
        say("calibrating")
        method = "isotonic" if len(cal_i) >= ISOTONIC_MIN else "sigmoid"
        model = CalibratedClassifierCV(FrozenEstimator(boosted), method=method)
        model.fit(X[cal_i], y[cal_i])
        counts["calibration_rows"] = int(len(cal_i))
    score = metrics.regression if regression else metrics.classification
    model_metrics = score(y_hold, predict(model, X_hold, regression))
    baseline_metrics = score(y_hold, predict(base, X_hold, regression))
    found: tuple[Importance, ...] = ()
    if with_importances:
        say("permutation importances")
        found = importances(model, encoder, X_hold, y_hold, regression, seed)
    return TrainResult(
        spec,
        encoder,
        split,
        counts,
        model_metrics,
        baseline_metrics,
        found,
        {"model": model, "baseline": base},
        method,
    )
