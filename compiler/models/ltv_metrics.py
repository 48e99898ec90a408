"""The metrics `trackplan ltv-compare` reports for one method and horizon (see
compiler/models/ltv_compare.py): MAE, RMSE, totals and bias, Spearman's rank correlation and the
top-decile capture."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr  # type: ignore[import-untyped]

from compiler.models.dataset import Floats


@dataclass(frozen=True)
class Metrics:
    mae: float
    rmse: float
    predicted_total: float
    actual_total: float
    bias_pct: float | None  # None when the actual total is 0
    spearman: float | None  # None when either side is constant
    top_decile_capture: float | None  # None when the actual total is <= 0


def metrics(actual: Floats, predicted: Floats, persons: tuple[str, ...]) -> Metrics:
    """The module doc's metrics of `predicted` against `actual` (one entry per person)."""
    err = predicted - actual
    total, pred_total = float(actual.sum()), float(predicted.sum())
    rho = None
    if np.ptp(actual) > 0 and np.ptp(predicted) > 0:
        rho = float(spearmanr(predicted, actual).statistic)
    capture = None
    if total > 0:
        k = math.ceil(0.1 * len(actual))
        order = sorted(range(len(actual)), key=lambda i: (-predicted[i], persons[i]))[:k]
        capture = float(actual[order].sum()) / total
    return Metrics(
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        predicted_total=pred_total,
        actual_total=total,
        bias_pct=(pred_total / total - 1) * 100 if total != 0 else None,
        spearman=rho,
        top_decile_capture=capture,
    )
