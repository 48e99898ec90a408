"""`trackplan simulate`: a Monte Carlo forecast of a cohort through the plan's funnel."""

from __future__ import annotations

import json
from pathlib import Path

import click

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
    required=True,
    help="Cohort size: impressions when the plan has an entry rate, else people entering the "
    "first state.",
)
@click.option("--runs", type=click.IntRange(min=1), default=1000, show_default=True)
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
    cohort: int,
    runs: int,
    seed: int | None,
    sets: tuple[str, ...],
    do_sweep: bool,
    fmt: str,
) -> None:
    """Forecast the plan's outcomes (the forecast section's, else every chain state)."""
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
