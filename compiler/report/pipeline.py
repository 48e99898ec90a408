"""Everything the report shows, from one set of exports: audit -> rates -> fit -> forecast -> sweep.

A step that cannot run for this plan or this data (no forecast declared, a transition neither
the plan nor the data gives) is recorded in `ReportInputs.skipped` as one line, and the report
leaves its sections out with that line; nothing here raises for a lint-clean plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import duckdb

from compiler.audit import run_audit
from compiler.exports import ExportReport
from compiler.funnel.fit import fit
from compiler.funnel.rates import compute
from compiler.plan.model import Plan
from compiler.report.inputs import ReportInputs
from compiler.report.view import transition_label
from compiler.simulation.config import ConfigError, SimConfig
from compiler.simulation.forecast import Forecast, MissingRates, simulate
from compiler.simulation.sweep import sweep


def _forecast(
    plan: Plan, config: SimConfig, cohort: int, runs: int, seed: int, skipped: dict[str, str]
) -> tuple[Forecast | None, tuple[Mapping[str, Any], ...]]:
    missing = config.missing()
    if missing:
        names = ", ".join(f"{transition_label(plan, n)} ({n})" for n in missing)
        skipped["forecast"] = (
            f"the forecast needs {names}, which neither the plan gives a default for nor the "
            "export measured"
        )
        return None, ()
    try:
        forecast = simulate(config, cohort, runs, seed)
        rows = tuple(sweep(config, cohort, runs, seed))
    except (MissingRates, ConfigError) as exc:
        skipped["forecast"] = str(exc)
        return None, ()
    if not rows:
        skipped["sweep"] = "the forecast has no lever to vary"
    return forecast, rows


def analyse(
    con: duckdb.DuckDBPyConnection,
    exports: ExportReport,
    plan: Plan,
    *,
    cohort: int,
    runs: int,
    seed: int,
    window_days: int | None = None,
    stage: Callable[[str], None] = lambda name: None,
) -> ReportInputs:
    """The report's inputs from the `events` view on `con`; `stage` is told each step's name."""
    skipped: dict[str, str] = {}
    stage("auditing against the plan")
    audit = run_audit(con, exports, plan)
    stage("computing funnel rates")
    rates = compute(con, plan, window_days)
    stage("fitting transition rates")
    try:
        config: SimConfig | None = fit(rates, plan)
    except ConfigError as exc:
        config = None
        skipped["fit"] = skipped["forecast"] = str(exc)
    forecast: Forecast | None = None
    rows: tuple[Mapping[str, Any], ...] = ()
    if config is not None:
        stage(f"forecasting {cohort:,} x {runs:,} runs and sweeping the levers")
        forecast, rows = _forecast(plan, config, cohort, runs, seed, skipped)
    return ReportInputs(
        plan=plan,
        sources=tuple(f.path for f in exports.files),
        rates=rates,
        audit=audit,
        config=config,
        forecast=forecast,
        sweep=rows,
        skipped=skipped,
    )
