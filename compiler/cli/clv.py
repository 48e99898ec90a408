"""`trackplan clv`: customer lifetime value by BG/NBD + Gamma-Gamma, from a transactions file or
from the plan's revenue events in PostHog exports.

    trackplan clv FILE --customer COL --date COL --amount COL --calibration-end DATE
    trackplan clv --exports EXPORT... [--plan DIR] [--currency CODE] --calibration-end DATE
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click
import duckdb
from rich.console import Console
from rich.table import Table

from compiler.cli.common import InputError, format_output_options, plan_option
from compiler.models.clv import ClvResult, analyse, write_scores
from compiler.models.clv_data import Columns, TransactionsError, load_file, summarize
from compiler.models.mle import FitError

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _file_mode(
    con: duckdb.DuckDBPyConnection, inputs: tuple[str, ...], columns: list[str | None]
) -> str:
    if len(inputs) != 1:
        raise InputError(f"expected one transactions file, got {len(inputs)} (or use --exports)")
    missing = [
        o for o, v in zip(("--customer", "--date", "--amount"), columns, strict=True) if not v
    ]
    if missing:
        raise InputError(f"a transactions file needs {', '.join(missing)} (or use --exports)")
    customer, day, amount = (str(c) for c in columns)
    load_file(con, Path(inputs[0]), Columns(customer, day, amount))
    return inputs[0]


def _exports_mode(
    inputs: tuple[str, ...], plan_dir: Path, currency: str | None
) -> tuple[duckdb.DuckDBPyConnection, str, list[str]]:
    # Imported here: the exports reader and the plan loader are only needed in this mode.
    from compiler.cli.rates import load_plan_or_fail, open_exports
    from compiler.models.clv_plan import load_plan_transactions

    plan = load_plan_or_fail(plan_dir)
    if plan.revenue is None:
        raise InputError(
            f"{plan_dir}: the plan declares no `revenue:` section, so there are no revenue events "
            "to compute CLV from (declare one, or pass a transactions file with --customer, "
            "--date and --amount)"
        )
    con, _ = open_exports(inputs, plan)
    label = ", ".join(inputs)
    got = load_plan_transactions(con, plan, label, currency)
    notes = [
        f"revenue events: {', '.join(got.events)}; currency {got.currency or '(none)'}; "
        f"{got.transactions} transaction(s)"
    ]
    if got.other_currencies:
        other = ", ".join(f"{c or '(none)'} ({n})" for c, n in sorted(got.other_currencies.items()))
        notes.append(f"left out, other currencies: {other}")
    if got.missing_values or got.negative_values:
        notes.append(
            f"left out: {got.missing_values} without a numeric value, "
            f"{got.negative_values} negative"
        )
    if got.refund_events:
        notes.append(f"{got.refund_events} refund event(s) not netted (spend is gross)")
    return con, label, notes


def _table(result: ClvResult, notes: list[str]) -> None:
    console = Console(highlight=False)
    s, b, g = result.summary, result.bgnbd, result.gamma_gamma
    for note in notes:
        console.print(note)
    console.print(
        f"{len(s.customers)} customers with a first purchase by {s.calibration_end} "
        f"({int((s.x > 0).sum())} repeat buyers); data {s.first_day} to {s.last_day}; time in "
        f"{result.unit}"
    )
    corr = result.to_json()["definitions"]["spend_frequency_correlation"]
    if corr is not None:
        console.print(
            f"correlation of spend per purchase with frequency: {corr:.2f} (Gamma-Gamma assumes "
            "they are independent)"
        )
    if g.zero_spend:
        console.print(
            f"{g.zero_spend} repeat buyer(s) whose repeat purchases were all free are left out "
            "of the Gamma-Gamma fit"
        )
    params = Table(title="Fitted parameters (maximum likelihood, standard errors by delta method)")
    for col in ("model", "parameter", "estimate", "std. error"):
        params.add_column(col, justify="right" if col in ("estimate", "std. error") else "left")
    rows = [
        ("BG/NBD", n, getattr(b.params, n), getattr(b.std_errors, n))
        for n in ("r", "alpha", "a", "b")
    ]
    rows += [
        ("Gamma-Gamma", n, getattr(g.params, n), getattr(g.std_errors, n))
        for n in ("p", "q", "gamma")
    ]
    for model, name, est, se in rows:
        params.add_row(model, name, f"{est:.4f}", f"{se:.4f}")
    params.add_row("BG/NBD", "log-likelihood", f"{b.loglik:.2f}", "")
    console.print(params)
    c = result.to_json()["clv"]
    console.print(
        f"CLV over {result.horizon_days} days (undiscounted): total {c['total']:,.2f}, "
        f"mean {c['mean']:,.2f} per customer; expected repeat purchases {c['expected_purchases']:,.1f}"
    )
    if c["customers_without_spend_estimate"] and g.params.q <= 1:
        console.print(
            f"note: Gamma-Gamma q = {g.params.q:.3f} <= 1, so the expected spend of the "
            f"{c['customers_without_spend_estimate']} customer(s) without a repeat purchase is "
            "unbounded; they are left out of the CLV totals"
        )
    if result.holdout is not None:
        h = result.holdout
        hold = Table(title=f"Holdout to {s.holdout_end}: repeat purchases per customer")
        for col in ("calibration x", "customers", "actual mean", "predicted mean"):
            hold.add_column(col, justify="right")
        for k in h.buckets:
            hold.add_row(k.label, str(k.customers), f"{k.actual:.3f}", f"{k.predicted:.3f}")
        hold.add_row(
            "all", str(len(s.customers)), f"{h.actual:,.0f} total", f"{h.predicted:,.1f} total"
        )
        console.print(hold)
        console.print(
            f"holdout spend: actual {h.actual_value:,.2f}, predicted {h.predicted_value:,.2f}"
        )


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="FILE | EXPORT...")
@click.option(
    "--exports",
    "from_exports",
    is_flag=True,
    help="The inputs are PostHog exports: use the plan's revenue events.",
)
@plan_option
@click.option("--customer", help="Customer id column (name, or 1-based position).")
@click.option("--date", "date_col", help="Transaction date column.")
@click.option("--amount", help="Transaction amount column (non-negative).")
@click.option(
    "--calibration-end",
    type=DATE,
    required=True,
    help="Last day of the calibration period (YYYY-MM-DD).",
)
@click.option(
    "--holdout-end",
    type=DATE,
    default=None,
    help="Last day of a holdout period to compare predictions with.",
)
@click.option("--currency", default=None, help="With --exports: the currency to use.")
@click.option(
    "--horizon-days",
    type=click.IntRange(min=1),
    default=365,
    show_default=True,
    help="CLV horizon after the calibration end, in days.",
)
@click.option(
    "--time-unit",
    type=click.Choice(["weeks", "days"]),
    default="weeks",
    show_default=True,
    help="Unit of t_x and T (the parameters depend on it).",
)
@format_output_options("Write per-customer P(alive), expected purchases, spend and CLV (CSV).")
def clv(
    inputs: tuple[str, ...],
    from_exports: bool,
    plan_dir: Path,
    customer: str | None,
    date_col: str | None,
    amount: str | None,
    calibration_end: datetime,
    holdout_end: datetime | None,
    currency: str | None,
    horizon_days: int,
    time_unit: str,
    fmt: str,
    output: Path | None,
) -> None:
    """Customer lifetime value: BG/NBD and Gamma-Gamma fitted by maximum likelihood."""
    cal: date = calibration_end.date()
    hold = holdout_end.date() if holdout_end else None
    label = ", ".join(inputs)
    try:
        if from_exports:
            if customer or date_col or amount:
                raise InputError(
                    "--customer, --date and --amount are for a transactions file, " "not --exports"
                )
            con, label, notes = _exports_mode(inputs, plan_dir, currency)
        else:
            con, notes = duckdb.connect(), []
            label = _file_mode(con, inputs, [customer, date_col, amount])
        summary = summarize(con, label, cal, hold, 7 if time_unit == "weeks" else 1)
        result = analyse(summary, horizon_days)
    except (TransactionsError, FitError) as exc:
        message = str(exc) if isinstance(exc, TransactionsError) else f"{label}: {exc}"
        raise InputError(message) from None
    if output is not None:
        write_scores(result, output)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _table(result, notes)
