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


def _skipped(result: RatesResult, section: str) -> list[str]:
    return [f"  not measured: {result.skipped[section]}"] if section in result.skipped else []


def _state(plan: Plan, state_id: str) -> str:
    state = plan.state(state_id)
    return f"{state_id} ({state.name})" if state else state_id


def _months(result: RatesResult) -> list[str]:
    if not result.subscription_monthly and "subscription_monthly" not in result.skipped:
        return ["  no subscription events in the data"]
    out = []
    for month, c in result.subscription_monthly.items():
        p = c.proportion
        if c.complete:
            out.append(_line(month, p))
        else:
            out.append(
                f"  {month:<28} {p.numerator:>9} / {p.denominator:<9} partial: "
                f"{c.observed_days:.2f} of {c.days} days observed, canceled so far (not a "
                "monthly rate)"
            )
    return out


def _hazard(result: RatesResult) -> list[str]:
    h = result.hazard
    if h is None:
        return []
    if not h.cells:
        return ["  nobody in the data reached the hazard's at-risk state"]
    out = [f"  {'covariates that hold':<28} {'at risk':>9}   {'observed':>9} {'churned':>9}"]
    for c in h.cells:
        facts = ", ".join(n for n, v in c.facts.items() if v) or "none"
        rate = f"{c.churned / c.observed:8.2%}" if c.observed else "-"
        out.append(f"  {facts:<28} {c.persons:>9}   {c.observed:>9} {c.churned:>9} {rate:>8}")
    return out


def _revenue(result: RatesResult) -> list[str]:
    if not result.revenue and "revenue" not in result.skipped:
        return ["  no revenue events in the data"]
    out = []
    for r in result.revenue:
        cur = r.currency or "(no currency)"
        per_payer = "-" if r.per_payer is None else f"{r.per_payer:,.2f}"
        per_entrant = "-" if r.per_entrant is None else f"{r.per_entrant:,.4f}"
        out.append(
            f"  {cur:<6} gross {r.gross:,.2f}  refunds {r.refunds:,.2f}  net {r.net:,.2f}  "
            f"payers {r.payers}  per payer {per_payer}  per entrant {per_entrant}"
        )
        if r.missing_values:
            out.append(f"         {r.missing_values} event(s) without a numeric value counted as 0")
    return out


def format_table(result: RatesResult, plan: Plan) -> str:
    window = "whole range" if result.window_days is None else f"{result.window_days} days from t_0"
    out = [
        f"Data: first event {result.first_event or '-'}, as of {result.as_of or '-'} "
        "(every churn and retention window must end by as_of)",
        "",
        f"Transitions (conversion window: {window}; rule states per person, from their own "
        "time in the state they follow)",
        f"  {'':<28} {'persons':>21} {'rate':>8}  95% interval (Jeffreys)",
    ]
    out += _skipped(result, "transitions")
    out += [_line(t, p) for t, p in result.transitions.items()]
    first = _state(plan, plan.chain[0].id) if plan.chain else "the first state"
    out += ["", f"Milestones (of persons who reached {first})"]
    out += _skipped(result, "milestones") + [_line(m, p) for m, p in result.milestones.items()]
    out += ["", "Objective per entrant and its factors"]
    out += _skipped(result, "objective")
    if result.objective:
        obj = result.objective
        out.append(_line(f"{obj.label} {obj.transition}", obj.proportion))
        out += [_line(f"  {f.label}", f.proportion) for f in result.factors]
        product = result.factor_product()
        out.append(
            f"  {'product of factors':<28} {'-' if product is None else f'{product:.4%}':>30}"
        )
    out += [
        "",
        "Churn after a first one-off purchase p (per person: no activity in (p, p + X days]; "
        "only persons with p + X days <= as_of)",
    ]
    out += _skipped(result, "one_off")
    out += [_line(f"{d} days", p) for d, p in result.one_off.items()]
    out += ["", "Subscription churn by month (canceled in the month / active at its start)"]
    out += _skipped(result, "subscription_monthly") + _months(result)
    hz = result.hazard
    out += [
        "",
        "Churn hazard cells"
        + (f" ({hz.window_days}-day window after each person's anchor)" if hz else ""),
    ]
    out += _skipped(result, "hazard") + _hazard(result)
    out += ["", "Revenue by currency (never summed across currencies)"]
    out += _skipped(result, "revenue") + _revenue(result)
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
    """Funnel transition rates, milestones, the objective rate, churn and revenue from exports."""
    window_days = parse_window(window)
    plan = load_plan_or_fail(plan_dir)
    con, report = open_exports(exports, plan)
    result = compute(con, plan, window_days)
    if fmt == "json":
        click.echo(json.dumps({"rows": report.rows_ok, **result.to_json()}, indent=2))
    else:
        click.echo(f"{report.rows_ok} event(s) from {len(report.files)} file(s)\n")
        click.echo(format_table(result, plan))
