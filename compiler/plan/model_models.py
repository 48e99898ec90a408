"""The plan's predictive models (PRD §6, §7, §9) as data: features, labels, snapshots, models.

A feature is an aggregation over a person's events up to their snapshot time; a label is what
happens in the N days after it; a snapshot says when each person is scored. `trackplan build`
compiles each model to feature + label SQL (generated/features/), `train` fits it and `score`
applies it; none of them holds a company's event names of their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

# kind -> what it computes (the README's table and lint messages quote these).
FEATURE_KINDS: dict[str, str] = {
    "count": "events of `event` (matching `where`) in the last `days` days (default: all time)",
    "sum": "the sum of numeric `property` over those events",
    "mean": "the mean of numeric `property` over those events",
    "max": "the largest numeric `property` over those events",
    "distinct_count": "distinct values of `property` over those events",
    "days_since_first": "days from the first such event to the snapshot",
    "days_since_last": "days from the last such event to the snapshot",
    "first_value": "`property` on the first event (of `event`, or any event) that carries it",
    "last_value": "`property` on the last event (of `event`, or any event) that carries it",
    "time_between": "days from the first `event` to the first `to_event`",
    "ratio": "feature `numerator` / feature `denominator` (two counts), NULL when it is 0",
}
WINDOWED = ("count", "sum", "mean", "max", "distinct_count")
NUMERIC_KINDS = ("sum", "mean", "max")
VALUE_KINDS = ("first_value", "last_value")
LABEL_KINDS: dict[str, str] = {
    "event_within": "1 when `event` (matching `where`) happens within `days` after the snapshot",
    "churn": "1 when no activity event happens within `days` after the snapshot, or a cancel "
    "event does (default: the churn section's activity_events and cancel_events)",
    "revenue": "net revenue (the revenue section's events minus refunds) within `days`",
}
SNAPSHOT_KINDS: dict[str, str] = {
    "after_first": "`days` days after the person's first `event`",
    "every": "`count` snapshots `days` apart, the first at the person's first `event`: "
    "period k (1..count) starts at the first event + (k - 1) * days",
}
MAX_PERIODS = 104
MODEL_KINDS = ("classification", "regression", "hazard")
# Which label kinds each model kind can learn.
LABELS_FOR: dict[str, tuple[str, ...]] = {
    "classification": ("event_within", "churn"),
    "regression": ("revenue",),
    "hazard": ("churn", "event_within"),
}
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Where:
    property: str
    test: str  # above | below | equals
    value: Scalar


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str
    event: str | None = None
    property: str | None = None
    where: Where | None = None
    days: int | None = None  # window before the snapshot; None = all time
    numerator: str | None = None
    denominator: str | None = None
    to_event: str | None = None
    categorical: bool = False  # a text value (first_value / last_value of a non-number)
    parts: tuple[Feature, ...] = ()  # ratio: the numerator and denominator counts, resolved
    description: str = ""


@dataclass(frozen=True)
class Label:
    name: str
    kind: str
    days: int
    event: str | None = None
    where: Where | None = None
    events: tuple[str, ...] = ()  # churn: activity events
    cancel_events: tuple[str, ...] = ()  # churn: cancelling events
    description: str = ""


@dataclass(frozen=True)
class Snapshot:
    name: str
    kind: str
    event: str
    days: int
    count: int = 1  # kind every: how many periods
    description: str = ""

    def offsets(self) -> tuple[int, ...]:
        """Days after the first event of each snapshot (one per period)."""
        if self.kind == "every":
            return tuple(k * self.days for k in range(self.count))
        return (self.days,)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # classification | regression | hazard
    features: tuple[Feature, ...]  # in the model's order
    label: Label
    snapshot: Snapshot
    min_positives: int = 50
    title: str = ""
    description: str = ""

    def definition(self) -> dict[str, object]:
        """The model's definitions as plain data (recorded in a model file)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "features": [asdict(f) for f in self.features],
            "label": asdict(self.label),
            "snapshot": asdict(self.snapshot),
        }

    def fingerprint(self) -> str:
        """sha256 of the definitions: a model file trained on other definitions is refused."""
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Models:
    features: Mapping[str, Feature]
    labels: Mapping[str, Label]
    snapshots: Mapping[str, Snapshot]
    models: Mapping[str, ModelSpec] = field(default_factory=dict)
    description: str = ""
