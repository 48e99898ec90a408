"""`trackplan report EXPORT... -o report.html [--model MODEL_FILE ...] [--scores-dir DIR]`: one
page a growth lead reads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from compiler.cli.common import InputError, plan_option
from compiler.cli.rates import load_plan_or_fail, open_exports, parse_window
from compiler.plan.model import Plan

if TYPE_CHECKING:
    from compiler.models.modelfile import ModelFile
    from compiler.report.model_inputs import ModelInputs


def load_models(paths: tuple[Path, ...], plan: Plan) -> list[tuple[Path, ModelFile]]:
    """Each model file, loaded and checked against the plan; a usage error (exit 2) otherwise."""
    try:
        from compiler.models import modelfile
    except ImportError as exc:  # scikit-learn is an extra
        raise InputError(
            f"--model needs the models extra ({exc}): pip install 'trackplan[models]'"
        ) from None
    out: list[tuple[Path, ModelFile]] = []
    for path in paths:
        try:
            model = modelfile.load(path)
            modelfile.check_plan(model, plan, path)
        except modelfile.ModelFileError as exc:
            raise InputError(str(exc)) from None
        if any(m.name == model.name for _, m in out):
            raise InputError(f"{path}: model '{model.name}' is given twice")
        out.append((path, model))
    return out


def score_models(
    con: Any, plan: Plan, models: list[tuple[Path, ModelFile]], scores_dir: Path, report_dir: Path
) -> tuple[ModelInputs, ...]:
    from compiler.report.model_scores import prepare

    assert plan.models is not None  # check_plan found each model in it
    found = []
    for _, model in models:
        spec = plan.models.models[model.name]
        try:
            found.append(prepare(con, plan, spec, model, scores_dir, report_dir))
        except OSError as exc:
            raise InputError(f"{scores_dir}: cannot write the scores ({exc.strerror})") from None
    return tuple(found)


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
@click.option(
    "--model",
    "model_paths",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="A model file from `trackplan train` (repeatable): one section per model.",
)
@click.option(
    "--scores-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where each model's scores go, as MODEL.scores.csv [default: the report's folder].",
)
def report(
    exports: tuple[str, ...],
    plan_dir: Path,
    output: Path,
    window: str | None,
    cohort: int,
    runs: int,
    seed: int,
    model_paths: tuple[Path, ...],
    scores_dir: Path | None,
) -> None:
    """Audit, rates, revenue, churn, fitted rates, a forecast and the levers ranked, from
    EXPORT(s), as one self-contained HTML page; sections the plan cannot support say why. With
    --model, one section per trained model, and its scores written as MODEL.scores.csv."""
    try:
        from compiler.report import render
    except ImportError as exc:  # matplotlib is an extra
        raise InputError(
            f"the report needs matplotlib ({exc}): pip install 'trackplan[report]'"
        ) from None
    from compiler.report.pipeline import analyse

    window_days = parse_window(window)
    plan = load_plan_or_fail(plan_dir)
    models = load_models(model_paths, plan) if model_paths else []
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
        if models:
            status.update("scoring with the models")
            found = score_models(con, plan, models, scores_dir or output.parent, output.parent)
            inputs = replace(inputs, models=found)
        status.update("rendering the report")
        html = render(inputs)
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(
        f"wrote {output} ({export_report.rows_total:,} rows from {len(export_report.files)} file(s))"
    )
