"""`trackplan simulate`: a Monte Carlo forecast of a cohort through the plan's funnel
(`--impressions N`), or a per-person Monte Carlo from a fitted hazard (`--persons N --days D
--hazard FILE`, compiler/models/population.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from compiler.cli.common import InputError, plan_option, read_plan
from compiler.simulation.config import ConfigError, SimConfig, config_from_plan, load_config
from compiler.simulation.forecast import Forecast, MissingRates
from compiler.simulation.forecast import simulate as run_forecast
from compiler.simulation.parameters import UnknownParameter, apply_overrides, parse_override
from compiler.simulation.sweep import TOLERANCE, sweep, top


def _base_config(path: Path | None, plan_dir: Path) -> SimConfig:
    if path is not None:
        return load_config(path)
    result = read_plan(plan_dir)
    if result.errors:
        raise InputError(f"the plan has {len(result.errors)} error(s); run `trackplan lint`")
    return config_from_plan(result.plan)


def _config(path: Path | None, plan_dir: Path, sets: tuple[str, ...]) -> SimConfig:
    try:
        config = _base_config(path, plan_dir)
        overrides = dict(parse_override(config, text) for text in sets)
        return apply_overrides(config, overrides)
    except (ConfigError, UnknownParameter, ValueError) as exc:
        raise InputError(str(exc)) from None


def _sweep_lines(forecast: Forecast) -> list[str]:
    title = forecast.titles.get(forecast.objective, forecast.objective)
    lines = [
        "",
        f"sweep: {title} gained by one lever at a time (ranked by exact expected gain; "
        f"equal within {TOLERANCE:g} relative = tied)",
        f"{'rank':<6}{'lever':<20}{'change':<7}{'from':>9}{'to':>9}{'expected':>12}{'simulated':>12}",
    ]
    for row in forecast.sweep:
        rank = f"{row['rank']}{'=' if row['tied_with'] else ''}"
        name = row["label"] if row["kind"] == "transition" else row["lever"]
        if row["assumption"]:
            name += "*"
        lines.append(
            f"{rank:<6}{name:<20}{row['change']:<7}{row['from']:>9.4f}{row['to']:>9.4f}"
            f"{row['expected_gain']:>+12,.1f}{row['gain']:>+12,.1f}"
        )
    for change, rows in top(list(forecast.sweep)).items():
        names = ", ".join(r["lever"] for r in rows)
        what = f"a tie of {len(rows)} levers: {names}" if len(rows) > 1 else names
        lines.append(f"best {change}: {what} (+{rows[0]['expected_gain']:,.1f} expected)")
    if any(r["assumption"] for r in forecast.sweep):
        lines.append("* the entry rate is an assumption of the plan, not a measurement")
    return lines


def _table(forecast: Forecast) -> list[str]:
    mean, q = forecast.mean(), forecast.quantiles()
    lines = [
        f"{forecast.cohort:,} {forecast.cohort_label} x {forecast.runs:,} runs "
        f"(seed {forecast.seed})",
        f"{'outcome':<24}{'mean':>14}{'p5':>12}{'p50':>12}{'p95':>12}",
    ]
    for name in forecast.outcomes:
        title = forecast.titles.get(name, name)
        lines.append(
            f"{title:<24}{mean[name]:>14,.1f}{q[name]['p5']:>12,.0f}"
            f"{q[name]['p50']:>12,.0f}{q[name]['p95']:>12,.0f}"
        )
    if forecast.sweep:
        lines += _sweep_lines(forecast)
    return lines


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None


def _persons(
    hazard_path: Path,
    propensity_path: Path | None,
    revenue: float | None,
    persons: int,
    days: int,
    runs: int,
    seed: int | None,
    fmt: str,
) -> None:
    from compiler.models.hazard import HazardError, HazardFit
    from compiler.models.population import Population, Propensity, simulate_population

    data = _read_json(hazard_path, "hazard")
    try:
        fit = HazardFit.from_json(data)
        if isinstance(data.get("population"), dict):
            population = Population.from_json(data["population"])
        else:  # no population in the file: every person is the baseline person (x = 0)
            population = Population(np.zeros((1, len(fit.names))), fit.names)
    except HazardError as exc:
        raise InputError(f"{hazard_path}: {exc}") from None
    propensity = None
    if propensity_path is not None:
        raw = _read_json(propensity_path, "propensity")
        try:
            propensity = Propensity.from_json(raw)
        except HazardError as exc:
            raise InputError(f"{propensity_path}: {exc}") from None
        if revenue is None and isinstance(raw.get("revenue_per_purchase"), int | float):
            revenue = float(raw["revenue_per_purchase"])
    try:
        result = simulate_population(
            fit, propensity, revenue or 0.0, population, persons, days, runs, seed
        )
    except HazardError as exc:
        raise InputError(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
        return
    click.echo("\n".join(_person_table(result.to_json())))


def _person_table(data: dict[str, Any]) -> list[str]:
    lines = [
        f"{data['persons']:,} persons x {data['days']} days x {data['runs']} runs "
        f"(seed {data['seed']}); p5 / p50 / p95 over runs",
        f"{'day':>5}{'active':>32}{'purchases':>28}{'revenue':>34}{'churned':>28}",
    ]
    shown = range(data["days"]) if data["days"] <= 31 else [*range(0, data["days"], 7)]
    if data["days"] - 1 not in shown:
        shown = [*shown, data["days"] - 1]

    def band(cell: dict[str, float]) -> str:
        return f"{cell['p5']:,.0f} / {cell['p50']:,.0f} / {cell['p95']:,.0f}"

    for d in shown:
        row = data["daily"][d]
        lines.append(
            f"{d:>5}{band(row['active']):>32}{band(row['purchases']):>28}"
            f"{band(row['revenue']):>34}{band(row['churned']):>28}"
        )
    t = data["totals"]
    lines.append(
        f"{'total':<5}{'':>32}{band(t['purchases']):>28}{band(t['revenue']):>34}"
        f"{band(t['churned']):>28}"
    )
    return lines


@click.command()
@plan_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Simulation config (trackplan-simulation/2), e.g. from `fit`. Default: the plan's "
    "rates, as in generated/simulation/config.json.",
)
@click.option(
    "--impressions",
    "--entrants",
    "cohort",
    type=click.IntRange(min=0),
    default=None,
    help="Cohort size: impressions when the plan has an entry rate, else people entering the "
    "first state. One of --impressions or --persons is required.",
)
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    default=None,
    help="Per-person mode: simulate this many persons day by day from --hazard.",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    help="Per-person mode: days to simulate.",
)
@click.option(
    "--hazard",
    "hazard_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Per-person mode: a fitted hazard (trackplan-hazard/1, from `trackplan hazard`).",
)
@click.option(
    "--propensity",
    "propensity_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Per-person mode: a daily purchase model (trackplan-propensity/1). Default: none, "
    "no purchases.",
)
@click.option(
    "--revenue",
    type=click.FloatRange(min=0),
    default=None,
    help="Per-person mode: revenue per purchase (default: the propensity file's "
    "revenue_per_purchase, else 0).",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=None,
    help="Monte Carlo runs [default: 1000 with --impressions, 20 with --persons].",
)
@click.option("--seed", type=int, default=None, help="Seed for a reproducible forecast.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=RATE",
    help="Override a rate: a transition (TO|FROM) or its alias, `entry`, or `hazard.base`.",
)
@click.option("--sweep", "do_sweep", is_flag=True, help="Rank single-lever improvements.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def simulate(
    plan_dir: Path,
    config_path: Path | None,
    cohort: int | None,
    persons: int | None,
    days: int,
    hazard_path: Path | None,
    propensity_path: Path | None,
    revenue: float | None,
    runs: int | None,
    seed: int | None,
    sets: tuple[str, ...],
    do_sweep: bool,
    fmt: str,
) -> None:
    """Forecast the plan's outcomes (the forecast section's, else every chain state), or with
    --persons, purchases, revenue, active and churned persons per day from a fitted hazard."""
    if (cohort is None) == (persons is None):
        raise InputError("give exactly one of --impressions (cohort forecast) or --persons")
    if persons is not None:
        if hazard_path is None:
            raise InputError("--persons needs --hazard FILE (from `trackplan hazard`)")
        if config_path is not None or sets or do_sweep:
            raise InputError("--config, --set and --sweep belong to the --impressions forecast")
        _persons(hazard_path, propensity_path, revenue, persons, days, runs or 20, seed, fmt)
        return
    assert cohort is not None
    runs = runs or 1000
    config = _config(config_path, plan_dir, sets)
    try:
        forecast = run_forecast(config, cohort, runs, seed)
        if do_sweep:
            rows = tuple(sweep(config, cohort, runs, seed))
            forecast = Forecast(
                forecast.cohort,
                runs,
                seed,
                forecast.outcomes,
                forecast.titles,
                forecast.cohort_label,
                forecast.objective,
                rows,
            )
    except MissingRates as exc:
        raise InputError(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(forecast.to_json(), indent=2, sort_keys=True))
    else:
        click.echo("\n".join(_table(forecast)))
