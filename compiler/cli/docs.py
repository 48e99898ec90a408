"""`trackplan docs`: render the doc site, optionally with production health from an audit report
and a profile of the exports (persons, daily volume, null rates, observed funnel rates)."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.audit import run_audit
from compiler.build import compare, write
from compiler.cli.common import InputError, plan_option, print_diagnostics, progress, read_plan
from compiler.cli.rates import open_exports
from compiler.docs.health import AuditReportError, Health, from_audit, read_report
from compiler.docs.history import DEFAULT_LIMIT, History, HistoryError, read_history
from compiler.docs.profile import profile
from compiler.docs.site import render_site
from compiler.plan.model import Plan


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
    "--export",
    "exports",
    multiple=True,
    metavar="EXPORT",
    help="A PostHog export (JSONL, .gz, .zst, Parquet, CSV; repeatable): persons, daily volume, "
    "null rates and observed funnel rates; audited here unless --audit is given.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out/docs"),
    show_default=True,
    help="Directory to write the site into (files it does not render are left alone).",
)
@click.option(
    "--history",
    "with_history",
    is_flag=True,
    help="Each event page lists its contract changes per commit, read from the plan's git log.",
)
@click.option(
    "--history-limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    metavar="N",
    help="With --history: read at most the last N commits that touch the plan directory.",
)
def docs(
    plan_dir: Path,
    audit_path: Path | None,
    exports: tuple[str, ...],
    out_dir: Path,
    with_history: bool,
    history_limit: int,
) -> None:
    """Render the tracking-plan doc site into --out, with health from --audit and --export."""
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
    if exports:
        health = _with_exports(result.plan, exports, health)
    history = _history(plan_dir, history_limit) if with_history else None
    files = render_site(result.plan, health, history)
    changes = compare(out_dir, files, [])
    try:
        write(out_dir, files, changes)
    except OSError as exc:
        raise InputError(f"cannot write the site into {out_dir}: {exc.strerror or exc}") from None
    sources = [str(p) for p in (audit_path, *exports) if p]
    with_health = f" with health from {', '.join(sources)}" if health else ""
    click.echo(
        f"wrote the doc site into {out_dir}/{with_health}: {len(files)} files "
        f"({len(changes.added)} new, {len(changes.changed)} changed); open {out_dir / 'index.html'}"
    )


def _with_exports(plan: Plan, exports: tuple[str, ...], health: Health | None) -> Health:
    """The profile of the exports on `health`; without a report, the exports audited here."""
    con, report = open_exports(exports, plan)
    if report.rows_ok == 0:
        raise InputError(
            f"no readable rows in {', '.join(exports)}: {report.rows_unparseable} of "
            f"{report.rows_total} row(s) unparseable (run `trackplan audit` for details)"
        )
    if health is None:
        source = exports[0] if len(exports) == 1 else f"{exports[0]} and {len(exports) - 1} more"
        health = from_audit(run_audit(con, report, plan), source, set(plan.events))
    return health.with_profile(profile(con, plan))


def _history(plan_dir: Path, limit: int) -> History:
    """The plan's change history from git, with a progress bar; a usage error outside git."""
    with progress() as bar:
        task = bar.add_task(f"reading the change history of {plan_dir}", total=None)
        try:
            history = read_history(
                plan_dir, limit, lambda done, total: bar.update(task, completed=done, total=total)
            )
        except HistoryError as exc:
            raise InputError(str(exc)) from None
    skipped = f", {len(history.skipped)} not compared" if history.skipped else ""
    more = f" (limit {limit}; older commits not read)" if history.truncated else ""
    click.echo(
        f"change history: {len(history.commits)} commit(s) of {history.plan_path}{skipped}{more}"
    )
    return history
