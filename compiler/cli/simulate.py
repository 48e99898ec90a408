"""`trackplan simulate`: a Monte Carlo forecast of a cohort of ad impressions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option, read_plan
from compiler.simulation.config import ConfigError, SimConfig, config_from_plan, load_config
from compiler.simulation.forecast import OUTCOMES, Forecast
from compiler.simulation.forecast import simulate as run_forecast
from compiler.simulation.parameters import UnknownParameter, apply_overrides, parse_override
from compiler.simulation.sweep import best, sweep


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


def _table(forecast: Forecast) -> list[str]:
    mean, q = forecast.mean(), forecast.quantiles()
    lines = [
        f"{forecast.impressions:,} impressions x {forecast.runs:,} runs (seed {forecast.seed})",
        f"{'outcome':<14}{'mean':>14}{'p5':>12}{'p50':>12}{'p95':>12}",
    ]
    for name in OUTCOMES:
        lines.append(
            f"{name:<14}{mean[name]:>14,.1f}{q[name]['p5']:>12,.0f}"
            f"{q[name]['p50']:>12,.0f}{q[name]['p95']:>12,.0f}"
        )
    if forecast.sweep:
        lines += ["", "sweep: purchasers gained by one improvement (best first)"]
        lines.append(f"{'transition':<11}{'prd name':<15}{'change':<7}{'to':>8}{'gain':>12}")
        for row in forecast.sweep:
            lines.append(
                f"{row['transition']:<11}{row['prd_name'] or '-':<15}{row['change']:<7}"
                f"{row['to']:>8.4f}{row['gain']:>+12,.1f}"
            )
        for change, row in best(list(forecast.sweep)).items():
            lines.append(
                f"best {change}: {row['transition']} (+{row['expected_gain']:,.1f} expected)"
            )
    return lines


@click.command()
@plan_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Simulation config (trackplan-simulation/1), e.g. from `fit`. Default: the plan's "
    "rates, as in generated/simulation/config.json.",
)
@click.option("--impressions", type=click.IntRange(min=0), required=True, help="Ad impressions.")
@click.option("--runs", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=None, help="Seed for a reproducible forecast.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=RATE",
    help="Override a rate: a PRD name (ctr, p_cta, ..., p_repeat_30d) or a transition (S9|S8).",
)
@click.option("--sweep", "do_sweep", is_flag=True, help="Rank single transition improvements.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def simulate(
    plan_dir: Path,
    config_path: Path | None,
    impressions: int,
    runs: int,
    seed: int | None,
    sets: tuple[str, ...],
    do_sweep: bool,
    fmt: str,
) -> None:
    """Forecast clicks, activated, aha, purchasers, retained_30d and churned_30d."""
    config = _config(config_path, plan_dir, sets)
    forecast = run_forecast(config, impressions, runs, seed)
    if do_sweep:
        rows = tuple(sweep(config, impressions, runs, seed))
        forecast = Forecast(forecast.impressions, runs, seed, forecast.outcomes, rows)
    if fmt == "json":
        click.echo(json.dumps(forecast.to_json(), indent=2, sort_keys=True))
    else:
        click.echo("\n".join(_table(forecast)))
