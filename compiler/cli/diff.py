"""`trackplan diff`: what a plan change breaks, the version bump it needs, its production impact."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import click

from compiler.cli.common import EXIT_FINDINGS, EXIT_OK, InputError, plan_option
from compiler.diagnostics import Location
from compiler.diff.base import Base, BaseError, materialize
from compiler.diff.compare import compare, event_versions
from compiler.diff.model import Change, DiffResult, EventImpact
from compiler.diff.render import to_json, to_markdown, to_text
from compiler.plan import Plan, load_plan
from compiler.plan.pipeline import PlanNotFound


def _load(directory: Path, which: str, base: Base | None = None) -> Plan:
    try:
        result = load_plan(directory)
    except PlanNotFound as exc:
        raise InputError(f"{which} plan: {exc}") from None
    if result.errors:
        first_error = result.errors[0]
        loc = first_error.location
        if base is not None and loc is not None:  # name a ref's file as REF:path, not a temp dir
            first_error = dataclasses.replace(
                first_error, location=Location(base.display(loc.file), loc.line, loc.col)
            )
        first = first_error.format()
        raise InputError(
            f"the {which} plan has {len(result.errors)} error(s); run trackplan lint "
            f"(first: {first})"
        )
    return result.plan


def _shown(change: Change, base: Base) -> Change:
    loc = change.location
    if loc is None:
        return change
    file = base.display(loc.file) if change.side == "base" else loc.display_path()
    return dataclasses.replace(change, location=Location(file, loc.line, loc.col))


@click.command()
@click.option(
    "--base",
    "base_ref",
    default="HEAD",
    show_default=True,
    metavar="REF_OR_DIR",
    help="The plan to compare against: a directory, or a git ref of the --plan directory.",
)
@plan_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--allow-breaking", is_flag=True, help="Exit 0 even on breaking changes without a major bump."
)
@click.option(
    "--export",
    "exports",
    multiple=True,
    metavar="FILE",
    help="A PostHog export: count its rows that pass the base and fail the new plan (repeatable).",
)
def diff(
    base_ref: str, plan_dir: Path, fmt: str, allow_breaking: bool, exports: tuple[str, ...]
) -> None:
    """Compare the plan with a base (default: git HEAD) and classify each change.

    Exit 0 when nothing breaks (or the plan's major version was raised, or --allow-breaking),
    1 on a breaking change, 2 on a usage or input error.
    """
    if not plan_dir.is_dir():
        raise InputError(f"plan directory not found: {plan_dir}")
    with tempfile.TemporaryDirectory(prefix="trackplan-diff-") as scratch:
        try:
            base = materialize(base_ref, plan_dir, Path(scratch))
        except BaseError as exc:
            raise InputError(str(exc)) from None
        base_plan = _load(base.directory, f"base ({base.label})", base)
        new_plan = _load(plan_dir, f"new ({plan_dir})")
        changes = tuple(_shown(c, base) for c in compare(base_plan, new_plan))
        versions = event_versions(base_plan, new_plan)
        result = DiffResult(
            base.label, str(plan_dir), base_plan.version, new_plan.version, changes, versions
        )
        impact: list[EventImpact] | None = None
        if exports:
            from compiler.diff.impact import measure

            try:
                impact = measure(exports, base_plan, new_plan, result.event_bumps())
            except ValueError as exc:
                raise InputError(str(exc)) from None
    blocking = bool(result.breaking) and not (result.major_raised or allow_breaking)
    render = {"text": to_text, "json": to_json, "markdown": to_markdown}[fmt]
    click.echo(render(result, blocking=blocking, impact=impact), nl=False)
    raise SystemExit(EXIT_FINDINGS if blocking else EXIT_OK)
