"""Everything the report shows, computed from one set of exports: audit -> rates -> fit -> forecast."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from compiler.audit import run_audit
from compiler.exports import ExportReport
from compiler.funnel.fit import fit
from compiler.funnel.rates import compute
from compiler.plan.model import Plan
from compiler.report.view import ReportInputs
from compiler.simulation.config import parse_config
from compiler.simulation.forecast import simulate


def analyse(
    con: duckdb.DuckDBPyConnection,
    exports: ExportReport,
    plan: Plan,
    *,
    impressions: int,
    runs: int,
    seed: int,
    window_days: int | None = None,
    stage: Callable[[str], None] = lambda name: None,
) -> ReportInputs:
    """The report's inputs from the `events` view on `con`; `stage` is told each step's name."""
    stage("auditing against the plan")
    audit = run_audit(con, exports, plan).to_json()
    stage("computing funnel rates")
    rates = compute(con, plan, window_days)
    stage("fitting transition rates")
    fitted = fit(rates, plan)
    stage(f"forecasting {impressions:,} impressions x {runs:,} runs")
    forecast = simulate(parse_config(fitted, "fitted rates"), impressions, runs, seed)
    return ReportInputs(
        plan=plan,
        sources=tuple(f.path for f in exports.files),
        rates=rates.to_json(),
        audit=audit,
        fitted=fitted,
        forecast=forecast.to_json(),
        forecast_impressions=impressions,
    )
