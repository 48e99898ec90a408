"""`trackplan docs`: render the doc site, optionally with production health from an audit report."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.build import compare, write
from compiler.cli.common import InputError, plan_option, print_diagnostics, read_plan
from compiler.docs.health import AuditReportError, read_report
from compiler.docs.site import render_site


@click.command()
@plan_option
@click.option(
    "--audit",
    "audit_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="REPORT.json",
    help="A `trackplan audit --format json` report; each event page shows its health.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out/docs"),
    show_default=True,
    help="Directory to write the site into (files it does not render are left alone).",
)
def docs(plan_dir: Path, audit_path: Path | None, out_dir: Path) -> None:
    """Render the tracking-plan doc site into --out, with audit health when --audit is given."""
    result = read_plan(plan_dir)
    if result.errors:
        print_diagnostics(list(result.errors))
        raise InputError(
            f"the plan has {len(result.errors)} error(s); run `trackplan lint` and fix them first"
        )
    health = None
    if audit_path is not None:
        try:
            health = read_report(audit_path, set(result.plan.events))
        except AuditReportError as exc:
            raise InputError(str(exc)) from None
    files = render_site(result.plan, health)
    changes = compare(out_dir, files, [])
    try:
        write(out_dir, files, changes)
    except OSError as exc:
        raise InputError(f"cannot write the site into {out_dir}: {exc.strerror or exc}") from None
    with_health = f" with health from {audit_path}" if health else ""
    click.echo(
        f"wrote the doc site into {out_dir}/{with_health}: {len(files)} files "
        f"({len(changes.added)} new, {len(changes.changed)} changed); open {out_dir / 'index.html'}"
    )
