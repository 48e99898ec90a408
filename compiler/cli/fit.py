"""`trackplan fit EXPORT... -o fitted.json`: learn a simulation config from exports."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option
from compiler.cli.rates import load_plan_or_fail, open_exports, parse_window
from compiler.funnel.fit import fit as fit_config
from compiler.funnel.rates import compute
from compiler.simulation.config import ConfigError


@click.command()
@click.argument("exports", nargs=-1, required=True)
@plan_option
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the fitted simulation config (JSON).",
)
@click.option("--window", "window", metavar="DAYS", help="Conversion window from t_0, e.g. 30d.")
def fit(exports: tuple[str, ...], plan_dir: Path, output: Path, window: str | None) -> None:
    """Fit transition probabilities (Beta posteriors) and the churn hazard from exports."""
    window_days = parse_window(window)
    plan = load_plan_or_fail(plan_dir)
    con, report = open_exports(exports, plan)
    rates = compute(con, plan, window_days, fit_only=True)
    try:
        config = fit_config(rates, plan)
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    try:
        output.write_text(config.dumps(), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    learned = [n for n, t in config.transitions.items() if t.source == "fit"]
    first = next(iter(rates.transitions.values()), None)
    persons = first.denominator if first else 0
    first_state = plan.chain[0].id if plan.chain else "-"
    click.echo(
        f"fitted {len(learned)} of {len(config.transitions)} transition(s) from "
        f"{report.rows_ok} event(s), {persons} person(s) who reached {first_state}; wrote {output}"
    )
    kept = config.kept_from_plan()
    if kept:
        click.echo(f"kept from the plan (no data to learn from): {', '.join(kept)}")
    if config.entry is not None:
        click.echo(f"entry rate {config.entry.rate:g}: the plan's assumption (exports hold none)")
    if config.hazard is None and "hazard" in rates.skipped:
        click.echo(f"no hazard: {rates.skipped['hazard']}")
    missing = config.missing()
    if missing:
        click.echo(
            f"missing (no plan default, no data): {', '.join(missing)}; `trackplan simulate` "
            "will refuse until they are given"
        )
