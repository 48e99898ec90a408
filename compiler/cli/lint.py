"""`trackplan lint`: report every problem in the plan in one run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from compiler.cli.common import EXIT_FINDINGS, EXIT_OK, plan_option, print_diagnostics, read_plan


@click.command()
@plan_option
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
        document = {
            "ok": not failed,
            "errors": errors,
            "warnings": warnings,
            "files": len(result.files),
            "events": len(result.plan.events),
            "properties": len(result.plan.properties),
            "diagnostics": [d.to_json() for d in result.diagnostics],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        print_diagnostics(list(result.diagnostics))
        click.echo(
            f"{errors} error(s), {warnings} warning(s) in {len(result.files)} file(s): "
            f"{len(result.plan.events)} events, {len(result.plan.properties)} properties"
        )
    raise SystemExit(EXIT_FINDINGS if failed else EXIT_OK)
