"""`trackplan rates EXPORT... [--window 30d] [--format table|json]`: funnel rates from exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import duckdb

from compiler.audit.rules import csv_nulls
from compiler.cli.common import InputError, plan_option, print_diagnostics, read_plan
from compiler.exports import ExportReport, open_events
from compiler.funnel.intervals import Proportion
from compiler.funnel.rates import RatesResult, compute
from compiler.plan.model import Plan


def parse_window(value: str | None) -> int | None:
    """'30d' -> 30; None or 'all' -> None (the whole range)."""
    if value is None or value == "all":
        return None
    match = re.fullmatch(r"(\d+)d", value.strip())
    if not match or int(match.group(1)) == 0:
        raise InputError(
            f"--window: expected a number of days such as 30d (or 'all'), got {value!r}"
        )
    return int(match.group(1))


def load_plan_or_fail(plan_dir: Path) -> Plan:
    result = read_plan(plan_dir)
    if result.errors:
        print_diagnostics(list(result.errors))
        raise InputError(f"the plan has {len(result.errors)} error(s); run `trackplan lint` first")
    return result.plan


def open_exports(
    exports: tuple[str, ...], plan: Plan
) -> tuple[duckdb.DuckDBPyConnection, ExportReport]:
    """A DuckDB connection with the `events` view over the exports; missing files exit 2.

    Every command reads exports the same way as `trackplan audit` (CSV nulls included)."""
    con = duckdb.connect()
    report = open_events(con, list(exports), csv_nulls(plan))
    if report.errors:
        raise InputError("cannot read the export(s):\n  " + "\n  ".join(report.errors))
    for info in report.partial:
        click.echo(f"warning: {info.path}: {info.status}: {'; '.join(info.notes)}", err=True)
    if report.rows_unparseable:
        click.echo(
            f"warning: {report.rows_unparseable} of {report.rows_total} row(s) unparseable and "
            "left out (run `trackplan audit` for details)",
            err=True,
        )
    return con, report


def _line(name: str, p: Proportion) -> str:
    low, high = p.interval()
    rate = "-" if p.rate is None else f"{p.rate:8.2%}"
    ci = "-" if low is None or high is None else f"[{low:.2%}, {high:.2%}]"
    return f"  {name:<28} {p.numerator:>9} / {p.denominator:<9} {rate:>8}  {ci}"


def format_table(result: RatesResult) -> str:
    window = "whole range" if result.window_days is None else f"{result.window_days} days"
    out = [
        f"Transitions (conversion window: {window})",
        f"  {'':<28} {'persons':>21} {'rate':>8}  95% interval (Jeffreys)",
    ]
    out += [_line(t, p) for t, p in result.transitions.items()]
    out += ["", "Milestones (of persons who clicked an ad, S0)"]
    out += [_line(m, p) for m, p in result.milestones.items()]
    out += ["", "P(purchase|click) and its factors"]
    if result.purchase_per_click:
        ppc = result.purchase_per_click
        out.append(_line(f"{ppc.label} {ppc.transition}", ppc.proportion))
        out += [_line(f"  {f.label}", f.proportion) for f in result.factors]
        product = result.factor_product()
        out.append(
            f"  {'product of factors':<28} {'-' if product is None else f'{product:.4%}':>30}"
        )
    out += ["", "Churn"]
    out += [_line(f"credit packs, {d} days", p) for d, p in result.credit_pack.items()]
    out += [_line(f"subscriptions, {m}", p) for m, p in result.subscription_monthly.items()]
    out += ["", "PRD §13 queries, corrected (last 30 days)"]
    out += [_line(name, p) for name, p in result.prd.items()]
    return "\n".join(out)


@click.command()
@click.argument("exports", nargs=-1, required=True)
@plan_option
@click.option(
    "--window",
    "window",
    metavar="DAYS",
    help="Conversion window from t_0, e.g. 30d (default: whole range).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def rates(exports: tuple[str, ...], plan_dir: Path, window: str | None, fmt: str) -> None:
    """Funnel transition rates, milestones, P(purchase|click) and churn from PostHog exports."""
    window_days = parse_window(window)
    plan = load_plan_or_fail(plan_dir)
    con, report = open_exports(exports, plan)
    result = compute(con, plan, window_days)
    if fmt == "json":
        click.echo(json.dumps({"rows": report.rows_ok, **result.to_json()}, indent=2))
    else:
        click.echo(f"{report.rows_ok} event(s) from {len(report.files)} file(s)\n")
        click.echo(format_table(result))
