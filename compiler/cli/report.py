"""`trackplan report EXPORT... -o report.html`: one page a growth lead reads."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from compiler.cli.common import InputError, plan_option
from compiler.cli.rates import load_plan_or_fail, open_exports, parse_window


@click.command()
@click.argument("exports", nargs=-1, required=True)
@plan_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the HTML report.",
)
@click.option(
    "--window",
    default=None,
    metavar="30d",
    help="Conversion window for the rates (default: the whole range).",
)
@click.option(
    "--cohort",
    "--impressions",
    "cohort",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Cohort to forecast: impressions when the plan's forecast has an entry rate, else "
    "people entering the first step.",
)
@click.option(
    "--runs", type=click.IntRange(min=1), default=2_000, show_default=True, help="Monte Carlo runs."
)
@click.option("--seed", type=int, default=0, show_default=True)
def report(
    exports: tuple[str, ...],
    plan_dir: Path,
    output: Path,
    window: str | None,
    cohort: int,
    runs: int,
    seed: int,
) -> None:
    """Audit, rates, revenue, churn, fitted rates, a forecast and the levers ranked, from
    EXPORT(s), as one self-contained HTML page; sections the plan cannot support say why."""
    try:
        from compiler.report import render
    except ImportError as exc:  # matplotlib is an extra
        raise InputError(
            f"the report needs matplotlib ({exc}): pip install 'trackplan[report]'"
        ) from None
    from compiler.report.pipeline import analyse

    window_days = parse_window(window)
    plan = load_plan_or_fail(plan_dir)
    console = Console(stderr=True)
    with console.status("reading exports") as status:
        con, export_report = open_exports(exports, plan)
        inputs = analyse(
            con,
            export_report,
            plan,
            cohort=cohort,
            runs=runs,
            seed=seed,
            window_days=window_days,
            stage=status.update,
        )
        status.update("rendering the report")
        html = render(inputs)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(
        f"wrote {output} ({export_report.rows_total:,} rows from {len(export_report.files)} file(s))"
    )
