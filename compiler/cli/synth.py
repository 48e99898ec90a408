"""`trackplan synth`: a synthetic PostHog export of people moving through the plan's funnel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option, read_plan
from compiler.plan.model import Plan
from compiler.simulation.config import ConfigError, SimConfig, config_from_plan, load_config
from compiler.synth import Person, synthesize
from compiler.synth.export import ExportError, export_format, write_export
from compiler.synth.profile import Profile, ProfileError, load_profile
from compiler.synth.timeline import Row
from compiler.synth.truth import TruthError, truth_format, write_truth
from compiler.synth.world import MissingRate

GENERIC = "none"  # --profile none: the generic engine even when the plan names a profile


def _config(plan: Plan, path: Path | None) -> SimConfig | None:
    if path is None and not plan.chain:
        return None  # no funnel, no rates: people send the plan's events at random
    try:
        return load_config(path) if path is not None else config_from_plan(plan)
    except ConfigError as exc:
        raise InputError(str(exc)) from None


def _profile(plan: Plan, plan_dir: Path, name: str | None) -> Profile | None:
    chosen = plan.synth_profile if name is None else name
    if chosen is None or chosen == GENERIC:
        return None
    try:
        return load_profile(plan_dir, chosen)
    except ProfileError as exc:
        raise InputError(str(exc)) from None


@click.command()
@plan_option
@click.option(
    "--users", type=click.IntRange(min=1), required=True, help="People who enter the funnel."
)
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
    "--profile",
    "profile_name",
    default=None,
    metavar="NAME",
    help="Behaviour profile: a package in the plan directory (default: the plan's "
    f"`synth.profile`; `{GENERIC}` for the generic engine).",
)
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write each person's latent facts (.jsonl or .csv).",
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
    profile_name: str | None,
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
    plan = result.plan
    config = _config(plan, config_path)
    profile = _profile(plan, plan_dir, profile_name)
    try:
        run, chunks = synthesize(plan, config, users, days, seed, profile)
    except (ProfileError, MissingRate) as exc:
        raise InputError(f"{plan_dir}: {exc}") from None
    people: list[Person] = []

    def rows() -> Iterator[list[Row]]:
        for chunk, who in chunks:
            people.extend(who)
            yield chunk

    try:
        count = write_export(output, rows())
    except (ExportError, OSError) as exc:
        raise InputError(f"{output}: {exc}") from None
    click.echo(f"wrote {count:,} events for {users:,} people to {output}")
    if truth_path is not None:
        n = write_truth(truth_path, run.truth_fields(), run.truth(people))
        click.echo(f"wrote the latent facts of {n:,} people to {truth_path}")
