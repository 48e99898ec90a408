"""`trackplan ltv-compare EXPORT... --calibration-end DATE [--horizons 30,60,90] [--currency CODE]
[--seed N] [--format table|json] [-o FILE]`: BG/NBD + Gamma-Gamma against the plan's revenue
regression models on one holdout (compiler/models/ltv_compare.py)."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from compiler.cli.common import InputError, format_output_options, plan_option, progress

if TYPE_CHECKING:
    from compiler.models.ltv_compare import Comparison

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _horizons(value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        days = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise InputError(f"--horizons: {value!r} is not a comma-separated list of days") from None
    if not days or any(d < 1 for d in days):
        raise InputError(f"--horizons: {value!r}: give one or more whole days >= 1, e.g. 30,60,90")
    return tuple(dict.fromkeys(days))


def _fmt(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else format(value, pattern)


def _table(result: Comparison) -> None:
    console = Console(highlight=False)
    r = result
    console.print(
        f"{len(r.persons)} persons with a revenue transaction by {r.calibration_end} (currency "
        f"{r.currency or '(none)'}); last event {r.as_of:%Y-%m-%d %H:%M}"
    )
    if r.other_currencies:
        other = ", ".join(f"{c or '(none)'} ({n})" for c, n in sorted(r.other_currencies.items()))
        console.print(f"left out, other currencies: {other}")
    if r.spend_fallback:
        console.print(
            f"{r.spend_fallback} person(s) without a Gamma-Gamma spend estimate (q <= 1) use the "
            "observed mean repeat spend"
        )
    table = Table(title=f"Net revenue after {r.calibration_end}: predicted against actual")
    for col in ("days", "method", "MAE", "RMSE", "pred.", "actual", "bias", "rho", "top 10%"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for h in r.horizons:
        for name, m in (("BG/NBD", h.bgnbd_metrics), ("ML", h.ml_metrics)):
            capture = m.top_decile_capture
            table.add_row(
                str(h.days),
                name,
                f"{m.mae:,.2f}",
                f"{m.rmse:,.2f}",
                f"{m.predicted_total:,.0f}",
                f"{m.actual_total:,.0f}",
                "n/a" if m.bias_pct is None else f"{m.bias_pct:+.0f}%",
                _fmt(m.spearman, ".3f"),
                "n/a" if capture is None else f"{capture:.0%}",
            )
    console.print(table)
    for h in r.horizons:
        console.print(
            f"ML {h.days} days = {h.model}: trained on {h.train_rows} snapshots ({h.train_positives} with revenue) "
            f"whose label windows end by {h.train_label_end}; gross holdout revenue "
            f"{h.actual_gross:,.2f} (BG/NBD forecasts gross spend; refunds are not modelled)"
        )


def write_predictions(result: Comparison, path: Path) -> int:
    """One row per person: BG/NBD predicted, ML predicted and actual revenue per horizon."""
    header = ["person_id"]
    for h in result.horizons:
        header += [f"bgnbd_{h.days}d", f"ml_{h.days}d", f"actual_{h.days}d"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i, person in enumerate(result.persons):
            row = [person]
            for h in result.horizons:
                row += [repr(float(h.bgnbd[i])), repr(float(h.ml[i])), repr(float(h.actual[i]))]
            writer.writerow(row)
    return len(result.persons)


@click.command("ltv-compare")
@click.argument("exports", nargs=-1, required=True)
@plan_option
@click.option(
    "--calibration-end",
    type=DATE,
    required=True,
    help="Last day (UTC) of the data both methods learn from (YYYY-MM-DD).",
)
@click.option(
    "--horizons",
    default=None,
    help="Comma-separated holdout lengths in days (default: every revenue regression model's).",
)
@click.option(
    "--currency", default=None, help="The currency to compare in (default: the most used)."
)
@click.option(
    "--ml-snapshots",
    type=click.Choice(["plan", "rolling"]),
    default="plan",
    show_default=True,
    help="ML training rows: the model's own snapshots, or rolling ones like the holdout's.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the ML fits.")
@format_output_options("Write per-person predicted and actual revenue per horizon (CSV).")
def ltv_compare(
    exports: tuple[str, ...],
    plan_dir: Path,
    calibration_end: datetime,
    horizons: str | None,
    currency: str | None,
    ml_snapshots: str,
    seed: int,
    fmt: str,
    output: Path | None,
) -> None:
    """Compare BG/NBD + Gamma-Gamma with the plan's revenue regression models on one holdout:
    the same persons, revenue after --calibration-end. Exit 2 when the data is too small."""
    from compiler.cli.rates import load_plan_or_fail, open_exports
    from compiler.models.clv_data import TransactionsError
    from compiler.models.ltv_compare import CompareRefused, compare
    from compiler.models.ltv_ml import regression_models
    from compiler.models.mle import FitError

    days = _horizons(horizons)
    plan = load_plan_or_fail(plan_dir)
    if plan.revenue is None:
        raise InputError(f"{plan_dir}: the plan declares no `revenue:` section")
    if days is None:
        days = tuple(sorted(regression_models(plan)))
        if not days:
            raise InputError(f"{plan_dir}: the plan declares no regression model of revenue")
    con, _ = open_exports(exports, plan)
    label = ", ".join(exports)
    try:
        with progress() as bar:
            bar.add_task("fitting BG/NBD + Gamma-Gamma and the ML models", total=None)
            result = compare(
                con,
                plan,
                label,
                calibration_end.date(),
                days,
                currency,
                seed,
                rolling=ml_snapshots == "rolling",
            )
    except (CompareRefused, TransactionsError) as exc:
        raise InputError(str(exc)) from None
    except FitError as exc:
        raise InputError(f"{label}: {exc}") from None
    if output is not None:
        write_predictions(result, output)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        _table(result)
