"""What every command shares: option types, loading the plan, printing diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from compiler.diagnostics import Diagnostic, capped
from compiler.plan import PlanResult, load_plan
from compiler.plan.pipeline import PlanNotFound

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class InputError(click.ClickException):
    """A usage or input problem: printed as one line, exit code 2, never a traceback."""

    exit_code = EXIT_USAGE


F = TypeVar("F", bound=Callable[..., Any])


def plan_option(func: F) -> F:
    return click.option(
        "--plan",
        "plan_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("tracking_plan"),
        show_default=True,
        envvar="TRACKPLAN_PLAN",
        help="Directory holding the YAML tracking plan.",
    )(func)


def format_output_options(output_help: str) -> Callable[[F], F]:
    """`--format table|json` (the parameter `fmt`) and `-o/--output FILE` (`output`, a Path or
    None), with `output_help` saying what the file holds."""

    def decorate(func: F) -> F:
        func = click.option(
            "-o",
            "--output",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help=output_help,
        )(func)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(["table", "json"]),
            default="table",
            show_default=True,
        )(func)

    return decorate


def read_plan(plan_dir: Path) -> PlanResult:
    try:
        return load_plan(plan_dir)
    except PlanNotFound as exc:
        raise InputError(str(exc)) from None


def source_excerpt(diag: Diagnostic, cache: dict[str, list[str]]) -> list[str]:
    """The offending source line with a caret under the column (sqlglot style)."""
    loc = diag.location
    if loc is None or loc.line < 1:
        return []
    if loc.file not in cache:
        try:
            cache[loc.file] = (
                Path(loc.file).read_text(encoding="utf-8", errors="replace").splitlines()
            )
        except OSError:
            cache[loc.file] = []
    lines = cache[loc.file]
    if loc.line > len(lines):
        return []
    return ["    " + lines[loc.line - 1], "    " + " " * (loc.col - 1) + "^"]


def print_diagnostics(
    diagnostics: list[Diagnostic], *, excerpts: bool = True, per_code: int = 50
) -> None:
    shown, hidden = capped(diagnostics, per_code)
    cache: dict[str, list[str]] = {}
    for diag in shown:
        click.echo(diag.format())
        if excerpts:
            for line in source_excerpt(diag, cache):
                click.echo(line)
    for code, count in sorted(hidden.items()):
        click.echo(f"... and {count} more {code}")


def progress() -> Progress:
    """A spinner with the elapsed time on stderr, for long work (gone when it ends)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
