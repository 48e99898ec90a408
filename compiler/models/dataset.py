"""Person snapshots as arrays: the model's feature SQL (DuckDB) run over the `events` view, and the
encoding of its columns into a numeric matrix that both the model and the baseline read.

Numbers stay numbers (NULL -> NaN). A text feature (first/last value of a string or boolean) is
a category: its levels are learned on the training rows (at most MAX_LEVELS, the most frequent;
rarer ones and levels first seen later share the code OTHER), missing stays NaN.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from compiler.models.features import render
from compiler.plan.model import Plan
from compiler.plan.model_models import ModelSpec

MAX_LEVELS = 30
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Snapshots:
    """One row per person snapshot, in the SQL's order (by person, then snapshot time)."""

    persons: tuple[str, ...]
    at: npt.NDArray[np.datetime64]
    values: dict[str, list[Any]]  # feature name -> raw values (None for NULL)
    label: Floats
    observed: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.persons)

    def take(self, index: npt.NDArray[np.intp]) -> Snapshots:
        return Snapshots(
            tuple(self.persons[i] for i in index),
            self.at[index],
            {k: [v[i] for i in index] for k, v in self.values.items()},
            self.label[index],
            self.observed[index],
        )


def load_snapshots(
    con: Any, plan: Plan, spec: ModelSpec, currency: str | None = None, at: str | None = None
) -> Snapshots:
    """Run the model's DuckDB feature SQL on `con` (which has the `events` view); `currency` and
    `at` as in compiler/models/features.py feature_query."""
    rows = con.execute(render(plan, spec, "duckdb", currency, at)).fetchall()
    times = np.array([_naive(r[1]) for r in rows], dtype="datetime64[us]")
    values = {f.name: [r[2 + i] for r in rows] for i, f in enumerate(spec.features)}
    label = np.array([float(r[-2]) if r[-2] is not None else 0.0 for r in rows], dtype=float)
    observed = np.array([bool(r[-1]) for r in rows], dtype=bool)
    return Snapshots(tuple(str(r[0]) for r in rows), times, values, label, observed)


def _naive(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Encoder:
    """How raw feature values become the matrix columns (learned on training rows only)."""

    features: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]  # categorical feature -> its levels, in code order

    @property
    def categorical(self) -> npt.NDArray[np.bool_]:
        return np.array([f in self.levels for f in self.features], dtype=bool)

    def other(self, feature: str) -> int:
        return len(self.levels[feature])

    def matrix(self, snaps: Snapshots) -> Floats:
        out = np.full((len(snaps), len(self.features)), np.nan)
        for j, name in enumerate(self.features):
            raw = snaps.values[name]
            if name in self.levels:
                codes = {level: i for i, level in enumerate(self.levels[name])}
                other = float(self.other(name))
                out[:, j] = [np.nan if v is None else float(codes.get(str(v), other)) for v in raw]
            else:
                out[:, j] = [np.nan if v is None else float(v) for v in raw]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "levels": {k: list(v) for k, v in self.levels.items()},
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Encoder:
        return Encoder(tuple(data["features"]), {k: tuple(v) for k, v in data["levels"].items()})


def fit_encoder(spec: ModelSpec, train: Snapshots) -> Encoder:
    levels = {}
    for f in spec.features:
        if f.categorical:
            counts = Counter(str(v) for v in train.values[f.name] if v is not None)
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_LEVELS]
            levels[f.name] = tuple(sorted(level for level, _ in top))
    return Encoder(tuple(f.name for f in spec.features), levels)
