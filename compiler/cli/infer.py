"""`trackplan infer EXPORT... -o DIR`: a plan that lints clean, from PostHog events as they are.

The exports are read as the audit reads them (`open_events`), profiled in DuckDB SQL
(`compiler.infer.profile`), turned into guesses with their evidence (`compiler.infer.guess`) and
written as commented YAML (`compiler.infer.write`); the result is linted before exiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click
import duckdb

from compiler.cli.common import EXIT_FINDINGS, EXIT_OK, InputError, print_diagnostics
from compiler.cli.plan_dir import check_target, write_files
from compiler.exports import open_events
from compiler.infer.guess import Thresholds, guess_plan
from compiler.infer.profile import profile_events
from compiler.infer.write import render
from compiler.plan import load_plan
from compiler.plan.pipeline import PlanNotFound

DEFAULT_NAME = "Inferred"


# click's decorators are untyped for mypy --strict; these typed views keep `infer` typed.
_Deco = Callable[[Callable[..., None]], Callable[..., None]]
_inputs: _Deco = click.argument("inputs", nargs=-1, required=True)
_output: _Deco = click.option(
    "-o",
    "--output",
    "directory",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory to write the plan into (new or empty).",
)
_enum_max: _Deco = click.option(
    "--enum-max",
    type=click.IntRange(min=1),
    default=Thresholds.enum_max,
    show_default=True,
    help="A string property with at most this many distinct values becomes an enum.",
)
_enum_min_rows: _Deco = click.option(
    "--enum-min-rows",
    type=click.IntRange(min=1),
    default=Thresholds.enum_min_rows,
    show_default=True,
    help="... when seen on at least this many rows.",
)
_required_min: _Deco = click.option(
    "--required-min",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=Thresholds.required_min,
    show_default=True,
    help="A property on at least this share of an event's rows is required.",
)
_name: _Deco = click.option(
    "--name", default=DEFAULT_NAME, show_default=True, help="The plan's (product's) name."
)
_force: _Deco = click.option("--force", is_flag=True, help="Overwrite the plan files in DIR.")


@click.command()
@_inputs
@_output
@_enum_max
@_enum_min_rows
@_required_min
@_name
@_force
def infer(
    inputs: tuple[str, ...],
    directory: Path,
    enum_max: int,
    enum_min_rows: int,
    required_min: float,
    name: str,
    force: bool,
) -> None:
    """Infer a tracking plan from PostHog exports (files, globs, directories or - for stdin).

    Exit 0 when written (it lints clean), 1 when the written plan has lint errors, 2 on a usage
    or input error (unreadable export, DIR not empty without --force).
    """
    name = name.strip()
    if not name:
        raise InputError("--name must not be empty")
    check_target(directory, force)
    started = time.perf_counter()
    thresholds = Thresholds(enum_max, enum_min_rows, required_min)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        exports = open_events(con, inputs)
        if exports.errors:
            raise InputError("; ".join(exports.errors))
        profile = profile_events(con, exports.text_files, enum_max)
    finally:
        con.close()
    if not profile.rows:
        raise InputError(f"no rows to infer from ({exports.rows_unparseable} unparseable)")
    if not profile.events:
        raise InputError(
            f"no events to infer from: {profile.rows} row(s), all PostHog system ($) events"
        )
    guess = guess_plan(profile, thresholds)
    sources = [f.path for f in exports.files]
    write_files(directory, render(guess, name, sources, profile.rows, thresholds))
    try:
        result = load_plan(directory)
    except PlanNotFound as exc:
        raise InputError(str(exc)) from None
    seconds = time.perf_counter() - started
    click.echo(
        f"inferred {len(guess.events)} events and {len(guess.properties)} properties from "
        f"{profile.rows} rows in {seconds:.1f}s into {directory}/ "
        f"({len(guess.system)} system event(s) skipped)"
    )
    if exports.rows_unparseable:
        click.echo(f"{exports.rows_unparseable} unparseable row(s) were left out")
    print_diagnostics(list(result.diagnostics))
    click.echo(f"next: trackplan audit {' '.join(inputs)} --plan {directory}")
    raise SystemExit(EXIT_FINDINGS if result.errors else EXIT_OK)
