"""`trackplan preview`: one event as it would go to PostHog and to Meta (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option, print_diagnostics, read_plan
from compiler.preview import PreviewError, preview


def _dump(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@click.command(name="preview")
@plan_option
@click.argument("event", required=False)
@click.option(
    "--generated",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("generated"),
    show_default=True,
    help="The build output holding python/<the plan's Python package>.",
)
def preview_command(plan_dir: Path, event: str | None, generated: Path) -> None:
    """Show EVENT as the generated Python tracker sends it to PostHog, and its Meta mapping.

    Without EVENT: a revenue event of the plan (or one mapped to Meta, or the funnel's last)."""
    result = read_plan(plan_dir)
    if result.errors:
        print_diagnostics(list(result.errors))
        raise InputError(f"the plan has {len(result.errors)} error(s); run `trackplan lint`")
    try:
        shown = preview(result.plan, event, generated)
    except PreviewError as exc:
        raise InputError(str(exc)) from None
    click.echo(f"# {shown.event} from the {shown.source} tracker, example arguments:")
    click.echo(_dump(shown.arguments))
    click.echo("# PostHog: the message posthog-python queues for POST /batch/")
    click.echo(_dump(shown.posthog))
    if shown.pixel is None:
        click.echo(f"# Meta: {shown.meta_note or 'not mapped'}")
        return
    command, name, data, options = shown.pixel
    click.echo("# Meta Pixel (browser)")
    click.echo(
        f"fbq({json.dumps(command)}, {json.dumps(name)}, {json.dumps(data)}, {json.dumps(options)})"
    )
    click.echo("# Meta Conversions API: one server event of POST /{pixel_id}/events {data: [...]}")
    click.echo(_dump(shown.capi))
