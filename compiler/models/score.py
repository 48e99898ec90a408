"""`trackplan score` as a library: a trained model applied to every person whose snapshot time
has come (their label window need not be over), keyed as the feature SQL keys persons:
PostHog's person_id, else the stitched distinct id."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from compiler.models.dataset import Encoder, load_snapshots
from compiler.models.modelfile import ModelFile
from compiler.models.train import predict
from compiler.plan.model import Plan
from compiler.plan.model_models import ModelSpec


@dataclass(frozen=True)
class Scores:
    column: str  # probability | predicted_value
    persons: tuple[str, ...]
    values: tuple[float, ...]
    snapshot_at: tuple[str, ...]


def score_snapshots(con: Any, plan: Plan, spec: ModelSpec, model: ModelFile) -> Scores:
    snaps = load_snapshots(con, plan, spec)
    encoder = Encoder.from_json(model.meta["encoder"])
    regression = spec.kind == "regression"
    X = encoder.matrix(snaps)
    if spec.kind == "hazard":  # the period each person is in now: P(event in it)
        from compiler.models.train_hazard import latest, with_period

        rows, period = latest(snaps)
        snaps = snaps.take(rows)
        X = with_period(X[rows], period)
    if len(snaps):
        with threadpool_limits(limits=1, user_api="openmp"):  # see train.train
            values = predict(model.estimators["model"], X, regression)
    else:
        values = np.zeros(0)
    stamps = tuple(str(t.astype("datetime64[us]")).replace("T", " ") + "Z" for t in snaps.at)
    column = "predicted_value" if regression else "probability"
    return Scores(column, snaps.persons, tuple(float(v) for v in values), stamps)


def write_scores(path: Path, scores: Scores) -> int:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["person_id", scores.column, "snapshot_at"])
        for row in zip(scores.persons, scores.values, scores.snapshot_at, strict=True):
            writer.writerow([row[0], f"{row[1]:.6g}", row[2]])
    return len(scores.persons)
