"""What the report is rendered from: the typed results of audit, rates, fit, simulate and sweep.

Every field but the plan and the sources may be missing; `skipped` holds, per report section,
one line saying why a step did not run (for example a transition the forecast needs that neither
the plan nor the data gives).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.audit.findings import AuditResult
from compiler.funnel.rates import RatesResult
from compiler.plan.model import Plan
from compiler.report.model_inputs import ModelInputs
from compiler.simulation.config import SimConfig
from compiler.simulation.forecast import Forecast


@dataclass(frozen=True)
class ReportInputs:
    plan: Plan
    sources: tuple[str, ...]
    rates: RatesResult | None = None
    audit: AuditResult | None = None
    config: SimConfig | None = None  # the fitted simulation config the forecast used
    forecast: Forecast | None = None
    sweep: tuple[Mapping[str, Any], ...] = ()  # rows of compiler.simulation.sweep.sweep
    skipped: Mapping[str, str] = field(default_factory=dict)  # section id -> why it is absent
    models: tuple[ModelInputs, ...] = ()  # trained models given with --model, in that order

    def why(self, *keys: str, default: str) -> str:
        """The first recorded reason for any of `keys` (the report's, then rates'), or default."""
        for key in keys:
            if key in self.skipped:
                return self.skipped[key]
        for key in keys:
            if self.rates is not None and key in self.rates.skipped:
                return self.rates.skipped[key]
        return default
