"""`trackplan lint`: report every problem in the plan in one run.

A file that cannot be parsed comes first; the problems that may only follow from it (references
to what it defined) are held back and counted in one note per file, right after its error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from compiler.cli.common import EXIT_FINDINGS, EXIT_OK, plan_option, print_diagnostics, read_plan
from compiler.diagnostics import Diagnostic
from compiler.plan import PlanResult

# `plan_option` is untyped (shared by every command); this typed view keeps `lint` typed.
_plan_option: Callable[[Callable[..., None]], Callable[..., None]] = plan_option


def ordered(result: PlanResult) -> list[Diagnostic]:
    """What lint shows, in order: each broken file's diagnostics followed by the note on what
    it holds back, then every other diagnostic by position."""
    held = {h.file: h for h in result.held_back}
    out: list[Diagnostic] = []
    for file in result.broken:
        out += result.root_causes(file)
        if file in held:
            out.append(held[file].summary())
    broken = set(result.broken)
    out += [d for d in result.diagnostics if not (d.location and d.location.file in broken)]
    return out


def print_text(result: PlanResult) -> None:
    """As `ordered`, with the source excerpts under diagnostics (not under the notes)."""
    held = {h.file: h for h in result.held_back}
    for file in result.broken:
        print_diagnostics(list(result.root_causes(file)))
        if file in held:
            click.echo(held[file].summary().format())
    broken = set(result.broken)
    print_diagnostics(
        [d for d in result.diagnostics if not (d.location and d.location.file in broken)]
    )


def json_document(result: PlanResult, failed: bool) -> dict[str, Any]:
    """The `--format json` report: the same diagnostics and notes as the text, in the same
    order; the held-back ones listed apart, marked as consequences of their cause's file."""
    return {
        "ok": not failed,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "held_back": result.held_back_count,
        "files": len(result.files),
        "events": len(result.plan.events),
        "properties": len(result.plan.properties),
        "diagnostics": [d.to_json() for d in ordered(result)],
        "held_back_diagnostics": [
            {
                **d.to_json(),
                "consequence": True,
                "cause": h.cause.location.display_path() if h.cause.location else None,
            }
            for h in result.held_back
            for d in h.diagnostics
        ],
    }


@click.command()
@_plan_option
@click.option("--strict", is_flag=True, help="Warnings fail the run too.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def lint(plan_dir: Path, strict: bool, fmt: str) -> None:
    """Check the tracking plan. Exit 0 when clean, 1 on errors (or warnings with --strict)."""
    result = read_plan(plan_dir)
    errors, warnings = len(result.errors), len(result.warnings)
    failed = errors > 0 or (strict and warnings > 0)
    if fmt == "json":
        click.echo(json.dumps(json_document(result, failed), indent=2))
    else:
        print_text(result)
        held = result.held_back_count
        click.echo(
            f"{errors} error(s), {warnings} warning(s) in {len(result.files)} file(s): "
            f"{len(result.plan.events)} events, {len(result.plan.properties)} properties"
            + (f"; {held} more held back until the file(s) above parse" if held else "")
        )
    raise SystemExit(EXIT_FINDINGS if failed else EXIT_OK)
