"""`trackplan audit`: check PostHog exports against the plan for drift."""

from __future__ import annotations

import re
import sys
import tempfile
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import click
import duckdb
from rich.console import Console

from compiler.audit import ENGINES, open_screened, run_audit, screen_for
from compiler.audit.findings import LEVELS
from compiler.audit.output import to_html, to_json, to_junit, to_text
from compiler.audit.rules import csv_nulls
from compiler.audit.samples import annotate
from compiler.audit.warehouse import DIALECTS
from compiler.audit.warehouse import emit_sql as warehouse_sql
from compiler.cli.common import EXIT_FINDINGS, EXIT_OK, InputError, plan_option, read_plan

MEMORY_LIMIT = re.compile(r"^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


def _connection(memory_limit: str) -> duckdb.DuckDBPyConnection:
    if not MEMORY_LIMIT.match(memory_limit):
        raise InputError(f"--memory-limit {memory_limit!r}: give a size such as 768MB or 2GB")
    # Rows live in DuckDB, never in Python lists; past the memory limit DuckDB spills to disk.
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/trackplan-duckdb'")
    con.execute("SET preserve_insertion_order = true")
    return con


@click.command()
@click.argument("inputs", nargs=-1)
@plan_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "html"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here instead of standard output.",
)
@click.option(
    "--engine",
    type=click.Choice(sorted(ENGINES)),
    default="duckdb",
    show_default=True,
    help="duckdb: the plan compiled to SQL; jsonschema: the per-row reference.",
)
@click.option(
    "--fail-on",
    type=click.Choice([*LEVELS, "none"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding of this severity or worse exists.",
)
@click.option(
    "--strict-system", is_flag=True, help="PostHog's own $-events and $-properties become findings."
)
@click.option(
    "--emit-sql",
    type=click.Choice(sorted(DIALECTS)),
    help="Print the audit as one SQL query for ClickHouse, DuckDB or HogQL and exit.",
)
@click.option(
    "--memory-limit",
    default="768MB",
    show_default=True,
    help="DuckDB memory limit; larger inputs spill to the temp directory.",
)
@click.option(
    "--docs-url",
    metavar="URL_OR_PATH",
    help="The doc site (`trackplan docs`): each HTML finding links to its event's page there.",
)
def audit(
    inputs: tuple[str, ...],
    plan_dir: Path,
    fmt: str,
    output: Path | None,
    engine: str,
    fail_on: str,
    strict_system: bool,
    emit_sql: str | None,
    memory_limit: str,
    docs_url: str | None,
) -> None:
    """Audit PostHog exports (files, globs, directories or - for stdin) against the plan.

    Exit 0 when clean, 1 on findings at or above --fail-on, 2 on a usage or input error.
    """
    result = read_plan(plan_dir)
    if result.errors:
        raise InputError(
            f"the plan in {plan_dir} has {len(result.errors)} error(s); run trackplan lint"
        )
    plan = result.plan
    if emit_sql:
        _write(warehouse_sql(plan, emit_sql, strict_system=strict_system), output)
        raise SystemExit(EXIT_OK)
    if not inputs:
        raise InputError("no input: name export files, a glob, a directory, or - for stdin")
    status = Console(stderr=True)
    con = _connection(memory_limit)
    with _progress(status, "reading exports"):
        screen = screen_for(plan, strict_system=strict_system) if engine == "duckdb" else None
        exports = open_screened(con, inputs, screen, csv_nulls(plan))
        if exports.errors:
            raise InputError("; ".join(exports.errors))
    with _progress(status, f"auditing {exports.rows_total} rows"):
        audited = run_audit(con, exports, plan, engine=engine, strict_system=strict_system)
    with _progress(status, "sampling the offending values"):
        annotate(
            con,
            audited,
            plan,
            text_files=exports.text_files,
            reasons=exports.reasons,
            strict_system=strict_system,
            view=exports.views.rows,
        )
    text = {
        "json": lambda: to_json(audited),
        "junit": lambda: to_junit(audited),
        "html": lambda: to_html(audited, plan, docs_url=docs_url),
        "text": lambda: to_text(audited),
    }[fmt]()
    _write(text, output)
    raise SystemExit(EXIT_FINDINGS if audited.failing(fail_on) else EXIT_OK)


def _progress(console: Console, message: str) -> AbstractContextManager[object]:
    """A spinner on long inputs, only when a person is watching the terminal."""
    return console.status(message) if sys.stderr.isatty() else nullcontext()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
