"""`trackplan synth`: a synthetic PostHog export of people moving through the funnel."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option, read_plan
from compiler.simulation.config import ConfigError, SimConfig, config_from_plan, load_config
from compiler.synth import missing_events, synthesize
from compiler.synth.export import ExportError, export_format, write_export
from compiler.synth.truth import TruthError, records, truth_format, write_truth


def _config(plan, path: Path | None) -> SimConfig:  # type: ignore[no-untyped-def]
    try:
        return load_config(path) if path is not None else config_from_plan(plan)
    except ConfigError as exc:
        raise InputError(str(exc)) from None


@click.command()
@plan_option
@click.option("--users", type=click.IntRange(min=1), required=True, help="People who click an ad.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Days over which they arrive.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Simulation config (default: the plan's rates, as in generated/simulation/config.json).",
)
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write each person's latent parameters (.jsonl or .csv).",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Export file: .jsonl, .jsonl.gz, .parquet or .csv.",
)
def synth(
    plan_dir: Path,
    users: int,
    days: int,
    seed: int,
    config_path: Path | None,
    truth_path: Path | None,
    output: Path,
) -> None:
    """Write a synthetic PostHog batch export that is valid against the plan."""
    try:
        export_format(output)
        if truth_path is not None:
            truth_format(truth_path)
    except (ExportError, TruthError) as exc:
        raise InputError(str(exc)) from None
    result = read_plan(plan_dir)
    if result.errors:
        raise InputError(f"the plan has {len(result.errors)} error(s); run `trackplan lint`")
    missing = missing_events(result.plan)
    if missing:
        raise InputError(
            f"{plan_dir}: synth needs these events, which the plan lacks: {', '.join(missing)}"
        )
    config = _config(result.plan, config_path)
    population, chunks = synthesize(result.plan, config, users, days, seed)
    people = []

    def rows():  # type: ignore[no-untyped-def]
        for chunk, who in chunks:
            people.extend(who)
            yield chunk

    try:
        count = write_export(output, rows())
    except (ExportError, OSError) as exc:
        raise InputError(f"{output}: {exc}") from None
    click.echo(f"wrote {count:,} events for {users:,} people to {output}")
    if truth_path is not None:
        n = write_truth(truth_path, records(config, population, people))
        click.echo(f"wrote the latent parameters of {n:,} people to {truth_path}")
