"""The plan's analytics declarations: codegen identity, the forecast, churn, revenue, hazard.

Everything a company decides about its funnel lives here as data; `rates`, `fit`, `simulate`,
`synth` and `report` read these and hold no company's event names of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Envelope roles: what the runtimes and the audit need an envelope field for.
ENVELOPE_ROLES = (
    "event_name",
    "event_id",
    "distinct_id",
    "timestamp",
    "source",
    "environment",
    "user_id",
    "session_id",
)
# Roles lint requires: every runtime sends a distinct id and fills a timestamp.
REQUIRED_ROLES = ("distinct_id", "timestamp")
LAYER_RUNTIMES = ("browser", "server")
COVARIATE_TESTS = ("above", "below", "equals")


@dataclass(frozen=True)
class Codegen:
    """Names of the generated packages and the tracker's default environment."""

    python_package: str  # import name, e.g. shopfast_analytics
    python_distribution: str  # pip name, e.g. shopfast-analytics
    npm_package: str  # e.g. @shopfast/analytics
    default_environment: str | None  # None when the plan has no environment role


@dataclass(frozen=True)
class ForecastOutcome:
    """One number a forecast reports: how many people reach `state`."""

    name: str
    title: str
    state: str
    description: str = ""


@dataclass(frozen=True)
class ForecastEntry:
    """How a cohort enters the first state: P(first state | impression), an assumption."""

    title: str
    rate: float
    description: str = ""


@dataclass(frozen=True)
class Forecast:
    outcomes: tuple[ForecastOutcome, ...]
    objective: str  # the outcome the lever sweep ranks by
    entry: ForecastEntry | None = None
    description: str = ""

    def outcome(self, name: str) -> ForecastOutcome | None:
        return next((o for o in self.outcomes if o.name == name), None)


@dataclass(frozen=True)
class PurchaseClass:
    """Purchases of one event, optionally only those whose `property` takes one of `values`."""

    event: str
    property: str | None = None
    values: tuple[str | int | float | bool, ...] = ()


@dataclass(frozen=True)
class Subscriptions:
    started: str  # event
    canceled: str  # event
    key: str  # the property both carry, naming the subscription


@dataclass(frozen=True)
class Churn:
    """What churn means for this product (PRD §6), measured per person from their own anchor."""

    activity_events: tuple[str, ...]
    inactivity_days: int
    windows: tuple[int, ...]  # horizons for one-off purchase churn, in days
    cancel_events: tuple[str, ...] = ()
    subscriptions: Subscriptions | None = None
    one_off_purchases: tuple[PurchaseClass, ...] = ()
    subscription_purchases: tuple[PurchaseClass, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RevenueSource:
    event: str
    value: str  # numeric property holding the amount
    currency: str | None = None  # property holding the ISO currency code


@dataclass(frozen=True)
class Revenue:
    events: tuple[RevenueSource, ...]
    refunds: tuple[RevenueSource, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Covariate:
    """A yes/no fact about a person at risk: did `event` (matching `where`) happen by the anchor."""

    name: str
    event: str
    extra: float  # added to the churn probability when the fact holds
    share: float  # its prevalence among the people at risk (a default until fitted)
    property: str | None = None
    test: str | None = None  # above | below | equals
    value: str | int | float | bool | None = None
    description: str = ""


@dataclass(frozen=True)
class Hazard:
    """P(churn within window_days) = clip(base + sum of the covariates' extras, 0, max)."""

    state: str  # the churn state it models (an inactive_for state)
    at_risk: str  # the chain state whose people are at risk
    anchor: str | None  # window starts at the first time in this state, else at_risk's
    window_days: int
    base: float
    max: float
    covariates: Mapping[str, Covariate] = field(default_factory=dict)
    description: str = ""
