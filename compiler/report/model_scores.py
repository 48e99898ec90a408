"""A trained model's part of the report: score every person, write the scores (best first) with
`trackplan score`'s writer, and average a regression model's predictions per acquisition
attribute with a 95% t interval. Needs the `models` extra; callers import it lazily.

Acquisition attributes are the model's text features that take the first value of a property on
any event (no `event`): the value the person's first event carrying the property had, such as the campaign,
ad creative, device or country they arrived with. Which properties those are is the plan's word.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import t as student_t  # type: ignore[import-untyped]

from compiler.models.dataset import load_snapshots
from compiler.models.modelfile import ModelFile
from compiler.models.score import Scores, score_snapshots, write_scores
from compiler.plan.model import Plan
from compiler.plan.model_models import VALUE_KINDS, ModelSpec
from compiler.report.model_inputs import MAX_LEVELS, MIN_PERSONS, GroupMean, ModelInputs

NONE = "(none)"


def acquisition_features(spec: ModelSpec) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in spec.features
        if f.kind == VALUE_KINDS[0] and f.event is None and f.categorical
    )


def best_first(scores: Scores) -> Scores:
    """The same rows, highest prediction first (ties by person, then snapshot)."""
    order = sorted(
        range(len(scores.persons)),
        key=lambda i: (-scores.values[i], scores.persons[i], scores.snapshot_at[i]),
    )
    return Scores(
        scores.column,
        tuple(scores.persons[i] for i in order),
        tuple(scores.values[i] for i in order),
        tuple(scores.snapshot_at[i] for i in order),
    )


def mean_interval(values: list[float]) -> tuple[float, float | None, float | None]:
    """Mean with its two-sided 95% Student t interval (None below two values)."""
    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return mean, None, None
    half = float(student_t.ppf(0.975, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def group_means(feature: str, levels: list[str | None], values: list[float]) -> list[GroupMean]:
    """Per level held by MIN_PERSONS or more (the largest MAX_LEVELS by persons, then by name),
    the other levels pooled in one row, persons without a value last."""
    counts = Counter(level for level in levels if level is not None)
    ranked = sorted(counts, key=lambda level: (-counts[level], level))
    shown = [level for level in ranked if counts[level] >= MIN_PERSONS][:MAX_LEVELS]
    pooled = set(ranked) - set(shown)
    rows: list[tuple[str, list[float]]] = [
        (level, [v for lv, v in zip(levels, values, strict=True) if lv == level]) for level in shown
    ]
    if pooled:
        rest = [v for lv, v in zip(levels, values, strict=True) if lv in pooled]
        rows.append((f"other ({len(pooled)} values)", rest))
    missing = [v for lv, v in zip(levels, values, strict=True) if lv is None]
    if missing:
        rows.append((NONE, missing))
    return [GroupMean(feature, name, len(vs), *mean_interval(vs)) for name, vs in rows]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _groups(con: Any, plan: Plan, spec: ModelSpec, scores: Scores) -> tuple[GroupMean, ...]:
    snaps = load_snapshots(con, plan, spec)
    if snaps.persons != scores.persons:  # the same SQL, so the same rows in the same order
        raise RuntimeError(f"model '{spec.name}': scored rows differ from the snapshots")
    out: list[GroupMean] = []
    for feature in acquisition_features(spec):
        levels = [_text(v) for v in snaps.values[feature]]
        out += group_means(feature, levels, list(scores.values))
    return tuple(out)


def prepare(
    con: Any, plan: Plan, spec: ModelSpec, model: ModelFile, scores_dir: Path, report_dir: Path
) -> ModelInputs:
    """Score with `model`, write `<scores_dir>/<model>.scores.csv` best first, and group a
    regression's predictions by acquisition attribute. OSError when the CSV cannot be written."""
    scores = score_snapshots(con, plan, spec, model)
    path = scores_dir / f"{spec.name}.scores.csv"
    scores_dir.mkdir(parents=True, exist_ok=True)
    write_scores(path, best_first(scores))
    top = float(np.quantile(scores.values, 0.9)) if scores.values else None
    found = ModelInputs(
        meta={k: v for k, v in model.meta.items() if k != "estimators"},
        scores_path=Path(os.path.relpath(path, report_dir)).as_posix(),
        scored=len(scores.persons),
        top_decile=top,
        acquisition=acquisition_features(spec),
    )
    why = ""
    if spec.kind != "regression":
        why = f"model '{spec.name}' predicts a probability, not value (a regression model does)"
    elif not found.acquisition:
        why = (
            f"model '{spec.name}' has no acquisition attribute among its features (the first "
            "text value of a property on any event)"
        )
    elif not scores.persons:
        why = "no person's snapshot time has come in this export"
    if why:
        return replace(found, skipped={"by_acquisition": why})
    return replace(found, groups=_groups(con, plan, spec, scores))
