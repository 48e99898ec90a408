"""`trackplan fit EXPORT... -o fitted.json`: learn a simulation config from exports."""

from __future__ import annotations

import json
from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option
from compiler.cli.rates import load_plan_or_fail, open_exports, parse_window
from compiler.funnel.fit import fit as fit_config
from compiler.funnel.rates import compute


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
    config = fit_config(compute(con, plan, window_days, fit_only=True), plan)
    try:
        output.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    persons = config["transitions"].get("S1|S0", {}).get("denominator", 0)
    click.echo(
        f"fitted {len(config['transitions'])} transitions from {report.rows_ok} event(s), "
        f"{persons} person(s) who clicked; wrote {output}"
    )
