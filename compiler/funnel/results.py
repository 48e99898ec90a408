"""What `trackplan rates` measures, as typed results (`RatesResult`); JSON only in `to_json()`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.funnel.intervals import Proportion


@dataclass(frozen=True)
class Factor:
    """One factor of the objective rate: a transition between two chain states."""

    label: str  # e.g. P(ClickedCTA|Landed)
    transition: str  # e.g. S2|S1
    proportion: Proportion


@dataclass(frozen=True)
class MonthChurn:
    """One month of subscription churn; a month still open at as_of is partial."""

    proportion: Proportion
    complete: bool  # the month ended on or before as_of
    observed_days: float  # days of the month up to as_of (fractional)
    days: int  # days in the month

    @property
    def partial(self) -> bool:
        return not self.complete

    def to_json(self) -> dict[str, Any]:
        return {
            **self.proportion.to_json(),
            "complete": self.complete,
            "partial": self.partial,
            "observed_days": self.observed_days,
            "days": self.days,
        }


@dataclass(frozen=True)
class HazardCell:
    facts: dict[str, bool]  # covariate name -> holds
    observed: int  # persons observed for the whole window after their anchor
    churned: int
    persons: int  # persons at risk (observed or not)

    def to_json(self) -> dict[str, Any]:
        return {
            "facts": dict(self.facts),
            "persons": self.persons,
            "observed": self.observed,
            "churned": self.churned,
        }


@dataclass(frozen=True)
class HazardCells:
    covariates: tuple[str, ...]
    window_days: int
    cells: tuple[HazardCell, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "covariates": list(self.covariates),
            "window_days": self.window_days,
            "cells": [c.to_json() for c in self.cells],
        }


@dataclass(frozen=True)
class RevenueRow:
    """Money in one currency (None: no currency property, or the event lacked it)."""

    currency: str | None
    gross: float
    refunds: float
    events: int
    refund_events: int
    payers: int  # persons with at least one revenue event in this currency
    entrants: int | None  # persons who reached the first chain state
    missing_values: int = 0  # events without a numeric value

    @property
    def net(self) -> float:
        return self.gross - self.refunds

    @property
    def per_payer(self) -> float | None:
        return self.net / self.payers if self.payers else None

    @property
    def per_entrant(self) -> float | None:
        return self.net / self.entrants if self.entrants else None

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "gross": self.gross,
            "refunds": self.refunds,
            "net": self.net,
            "events": self.events,
            "refund_events": self.refund_events,
            "payers": self.payers,
            "entrants": self.entrants,
            "per_payer": self.per_payer,
            "per_entrant": self.per_entrant,
            "missing_values": self.missing_values,
        }


@dataclass
class RatesResult:
    window_days: int | None
    as_of: str | None = None  # ISO 8601, UTC: the last event; every churn window ends by it
    first_event: str | None = None
    transitions: dict[str, Proportion] = field(default_factory=dict)
    milestones: dict[str, Proportion] = field(default_factory=dict)
    objective: Factor | None = None
    factors: list[Factor] = field(default_factory=list)
    subscription_monthly: dict[str, MonthChurn] = field(default_factory=dict)
    one_off: dict[int, Proportion] = field(default_factory=dict)
    one_off_windows: tuple[int, ...] = ()
    hazard: HazardCells | None = None
    revenue: list[RevenueRow] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # section -> one line why

    def factor_product(self) -> float | None:
        rates = [f.proportion.rate for f in self.factors]
        if not rates or any(r is None for r in rates):
            return None
        product = 1.0
        for rate in rates:
            product *= rate or 0.0
        return product

    def to_json(self) -> dict[str, Any]:
        obj = self.objective
        return {
            "as_of": self.as_of,
            "first_event": self.first_event,
            "window": {
                "conversion_days": self.window_days,
                "conversion": "from t_0" if self.window_days else "the whole range",
                "churn_windows_end_by": self.as_of,
            },
            "window_days": self.window_days,
            "transitions": {k: p.to_json() for k, p in self.transitions.items()},
            "milestones": {k: p.to_json() for k, p in self.milestones.items()},
            "objective": (
                None
                if obj is None
                else {
                    "label": obj.label,
                    "transition": obj.transition,
                    **obj.proportion.to_json(),
                    "factors": {
                        f.transition: {"label": f.label, **f.proportion.to_json()}
                        for f in self.factors
                    },
                    "product_of_factors": self.factor_product(),
                }
            ),
            "churn": {
                "subscription_monthly": {
                    m: c.to_json() for m, c in self.subscription_monthly.items()
                },
                "one_off": {f"{d}d": p.to_json() for d, p in self.one_off.items()},
                "hazard": None if self.hazard is None else self.hazard.to_json(),
            },
            "revenue": [r.to_json() for r in self.revenue],
            "skipped": dict(self.skipped),
        }
