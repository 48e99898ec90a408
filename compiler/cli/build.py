"""`trackplan build`: compile the plan into generated/ (or check that it is up to date)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import click

from compiler import targets
from compiler.build import compare, plan_source, render_all, write
from compiler.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    InputError,
    plan_option,
    print_diagnostics,
    read_plan,
)
from compiler.plan.model import Plan


@click.command()
@plan_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("generated"),
    show_default=True,
    help="Directory to write generated files into.",
)
@click.option("--check", is_flag=True, help="Write nothing; list stale files and exit 1 on drift.")
@click.option(
    "--target",
    "target_names",
    multiple=True,
    metavar="NAME",
    help=f"Only these targets (repeatable). Known: {', '.join(targets.TARGETS)}.",
)
def build(plan_dir: Path, out_dir: Path, check: bool, target_names: tuple[str, ...]) -> None:
    """Compile the tracking plan into every target under --out.

    Generated headers name the plan directory as given (relative to the current directory when
    given as an absolute path inside it)."""
    try:
        chosen = [targets.get(n) for n in target_names] or list(targets.TARGETS.values())
    except targets.UnknownTarget as exc:
        raise InputError(str(exc)) from None
    result = read_plan(plan_dir)
    if result.errors:
        print_diagnostics(list(result.errors))
        raise InputError(
            f"the plan has {len(result.errors)} error(s); run `trackplan lint` and fix them first"
        )
    files = render_all(result.plan, chosen, plan_source(plan_dir))
    _say_what_was_left_out(result.plan, chosen, files)
    changes = compare(out_dir, files, chosen)
    if check:
        for line in changes.lines():
            click.echo(f"{line.split()[0]:8} {out_dir / line.split()[1]}")
        if changes.stale:
            n = len(changes.lines())
            click.echo(f"{n} generated file(s) are stale; run `trackplan build`")
            raise SystemExit(EXIT_FINDINGS)
        click.echo(f"{out_dir}/ is up to date ({len(files)} files)")
        raise SystemExit(EXIT_OK)
    write(out_dir, files, changes)
    click.echo(
        f"built {len(files)} files into {out_dir}/ "
        f"({len(changes.added)} new, {len(changes.changed)} changed, {len(changes.removed)} removed)"
    )


def _say_what_was_left_out(
    plan: Plan, chosen: list[targets.Target], files: dict[PurePosixPath, str]
) -> None:
    """One line per target that wrote nothing, or per part it left out, saying why."""
    for target in chosen:
        skipped = target.skipped(plan)
        wrote = any(path.parts[0] == target.output_dir for path in files)
        if not wrote:
            why = "; ".join(dict.fromkeys(skipped.values())) or "the plan gives it nothing to write"
            click.echo(f"target {target.name} wrote nothing: {why}")
            continue
        for part, why in skipped.items():
            click.echo(f"target {target.name} left out {part}: {why}")
