"""What a model section of the report is drawn from: a trained model file's metadata, where its
scores were written, and its mean prediction per acquisition attribute (plain data; computing it
needs the `models` extra, drawing it does not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MIN_PERSONS = 5  # a value of an acquisition attribute held by fewer persons is pooled
MAX_LEVELS = 10  # values shown per attribute, largest first; the rest pooled in one row


@dataclass(frozen=True)
class GroupMean:
    """The mean prediction over the persons whose `feature` is `level`, with its 95% t interval
    (mean ± t(0.975, n-1) · s / √n; None for fewer than two persons)."""

    feature: str
    level: str  # the value; "(none)" for persons without one; "other (k values)" pooled
    persons: int
    mean: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ModelInputs:
    meta: Mapping[str, Any]  # the model file without its estimators (summary.meta's shape)
    scores_path: str  # the scores CSV as the report names it (relative to the report)
    scored: int  # persons (rows) in it
    top_decile: float | None  # the prediction the best-scored 10% reach
    groups: tuple[GroupMean, ...] = ()
    acquisition: tuple[str, ...] = ()  # the features grouped by, in the model's order
    skipped: Mapping[str, str] = field(default_factory=dict)  # part -> why it is absent

    @property
    def name(self) -> str:
        return str(self.meta["model"])
