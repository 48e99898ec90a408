"""`trackplan hazard EXPORT... -o HAZARD.json`: fit the discrete-time churn hazard (PRD §6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from compiler.cli.common import InputError, plan_option
from compiler.cli.rates import load_plan_or_fail, open_exports
from compiler.funnel.builder import NotApplicable


def _population(rows: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Each person's covariates on their first day, as distinct rows with counts."""
    first = np.r_[True, rows.person[1:] != rows.person[:-1]]
    unique, counts = np.unique(rows.X[first], axis=0, return_counts=True)
    return {
        "names": list(names),
        "clock": ["days_since_activity"],
        "rows": unique.tolist(),
        "counts": counts.tolist(),
    }


def _table(fit: Any, data: Any, kept: list[str], dropped: list[str]) -> list[str]:
    lines = [
        f"{fit.n_persons} person(s), {fit.n_rows} person-day row(s), {fit.n_events} churn "
        f"event(s); {data.at_risk} at risk, {data.too_recent} too recent to observe",
        f"{'covariate':<24}{'coef':>9}{'se':>9}{'hazard ratio':>14}{'95% interval':>22}",
    ]
    for n, c, s, hr, lo, hi in zip(
        fit.names, fit.coef, fit.std_err, fit.hazard_ratio, fit.hr_low, fit.hr_high, strict=True
    ):
        lines.append(f"{n:<24}{c:>9.4f}{s:>9.4f}{hr:>14.3f}{f'[{lo:.3f}, {hi:.3f}]':>22}")
    groups = len(set(fit.groups))
    lines.append(
        f"baseline: {len(fit.periods)} day(s) in {groups} group(s); log-lik {fit.loglik:.2f}"
    )
    if dropped:
        lines.append(f"left out (the same on every row): {', '.join(dropped)}")
    return lines


@click.command()
@click.argument("exports", nargs=-1, required=True)
@plan_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the fitted hazard (JSON, trackplan-hazard/1), for `simulate --hazard`.",
)
@click.option(
    "--max-days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    help="Follow each person this many days from their anchor, then censor.",
)
@click.option(
    "--min-events",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Pool consecutive days into one baseline term until it holds this many churn events.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def hazard(
    exports: tuple[str, ...], plan_dir: Path, output: Path, max_days: int, min_events: int, fmt: str
) -> None:
    """Fit the churn hazard (complementary log-log, per-day baseline) from exports."""
    from compiler.models.hazard import HazardError, fit_hazard
    from compiler.models.hazard_data import hazard_rows

    plan = load_plan_or_fail(plan_dir)
    con, _ = open_exports(exports, plan)
    try:
        data = hazard_rows(con, plan, max_days)
    except NotApplicable as exc:
        raise InputError(f"{plan_dir}: cannot fit a hazard: {exc}") from None
    rows = data.rows
    if len(rows.period) == 0:
        raise InputError("no person at risk has been observed for a full inactivity window")
    varies = [j for j in range(rows.X.shape[1]) if np.ptp(rows.X[:, j]) > 0]
    kept = [rows.names[j] for j in varies]
    dropped = [n for n in rows.names if n not in kept]
    try:
        fit = fit_hazard(
            rows.period,
            rows.event,
            rows.X[:, varies],
            kept,
            persons=rows.person,
            min_events=min_events,
        )
    except HazardError as exc:
        raise InputError(f"cannot fit the hazard: {exc}") from None
    out = fit.to_json() | {
        "population": _population(rows, rows.names),
        "definition": data.definition,
        "plan": {"name": plan.name, "version": plan.version},
        "left_out": dropped,
    }
    try:
        output.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    if fmt == "json":
        click.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    click.echo("definitions:\n" + data.definition.rstrip())
    click.echo("\n".join(_table(fit, data, kept, dropped)))
    click.echo(f"wrote {output}")
