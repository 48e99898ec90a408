"""`trackplan import typewriter PLAN.json -o DIR`: another tool's tracking plan as a plan directory.

The file is read and checked (`compiler.importers.typewriter`), mapped to the plan's model with
everything that does not map listed (`compiler.importers.typewriter_plan`), written by infer's
writer (`compiler.infer.write.render_plan`) and linted before exiting.
"""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.common import EXIT_FINDINGS, EXIT_OK, InputError, print_diagnostics
from compiler.cli.plan_dir import check_target, write_files
from compiler.importers.jsonschema_map import SchemaError
from compiler.importers.typewriter import PlanFileError, load
from compiler.importers.typewriter_plan import Imported, Names, to_plan
from compiler.infer.write import comment, render_plan
from compiler.plan import load_plan
from compiler.plan.pipeline import PlanNotFound

SHOWN = 200  # unmapped items printed; the plan's comments hold them all


@click.group(name="import")
def import_group() -> None:
    """Import a tracking plan written for another tool as a trackplan plan directory."""


def _headers(imported: Imported, source: Path) -> tuple[list[str], list[str]]:
    header = [
        comment(
            f"Imported by `trackplan import typewriter` from {source.name} "
            f"({imported.source_format} format, {imported.rules} rules)."
        ),
        comment(
            f"{len(imported.unmapped)} item(s) did not map exactly; each is a comment beside "
            "its event or property, and the others are listed here."
        ),
    ]
    alone = [u for u in imported.unmapped if u.event is None and u.prop is None]
    header += [comment(f"Unmapped: {u.text()}") for u in alone]
    if len(alone) < len(imported.unmapped):
        beside = len(imported.unmapped) - len(alone)
        header.append(comment(f"... and {beside} beside their events and properties."))
    events = [comment("Events of the typewriter plan's TRACK rules, in its order.")]
    return header, events


@import_group.command("typewriter")
@click.argument("plan_json", metavar="PLAN.json", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "directory",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory to write the plan into (new or empty).",
)
@click.option(
    "--event-names",
    type=click.Choice(["keep", "snake"]),
    default="keep",
    show_default=True,
    help="keep: the names emitters send (a permissive naming rule when needed); snake: rename "
    "every name off the default rule to snake_case (old names under deprecated_events).",
)
@click.option("--name", default=None, help="The plan's name (default: the typewriter plan's).")
@click.option("--force", is_flag=True, help="Overwrite the plan files in DIR.")
def typewriter(
    plan_json: Path, directory: Path, event_names: Names, name: str | None, force: bool
) -> None:
    """Import a typewriter / Segment Protocols plan.json (Public API v2 or Config API v1).

    Exit 0 when written (it lints clean; what did not map is listed as warnings), 1 when the
    written plan has lint errors, 2 on an input error (unreadable or invalid JSON, not a
    typewriter plan, an invalid rule, DIR not empty without --force).
    """
    check_target(directory, force)
    try:
        imported = to_plan(load(plan_json), event_names)
    except (PlanFileError, SchemaError) as exc:
        raise InputError(str(exc)) from None
    if not imported.guess.events:
        raise InputError(f"{plan_json}: no TRACK rule to import ({imported.rules} rule(s))")
    plan_name = (name or "").strip() or imported.name or plan_json.stem
    header, events_header = _headers(imported, plan_json)
    described = f"Imported from the typewriter plan {plan_json.name}; review the notes."
    write_files(directory, render_plan(imported.guess, plan_name, header, described, events_header))
    try:
        result = load_plan(directory)
    except PlanNotFound as exc:
        raise InputError(str(exc)) from None
    guess = imported.guess
    click.echo(
        f"imported {len(guess.events)} events and {len(guess.properties)} properties from "
        f"{plan_json} ({imported.source_format}) into {directory}/"
    )
    for item in imported.unmapped[:SHOWN]:
        click.echo(f"warning: unmapped: {item.text()}")
    if len(imported.unmapped) > SHOWN:
        click.echo(f"... and {len(imported.unmapped) - SHOWN} more (all in {directory}/plan.yaml)")
    print_diagnostics(list(result.diagnostics))
    click.echo(f"next: trackplan lint --strict --plan {directory}")
    raise SystemExit(EXIT_FINDINGS if result.errors else EXIT_OK)
