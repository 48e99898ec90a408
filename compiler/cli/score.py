"""`trackplan score EXPORT... --model MODEL_FILE -o SCORES.csv [--plan DIR]`."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option, progress
from compiler.cli.rates import load_plan_or_fail, open_exports
from compiler.cli.train import model_spec


@click.command()
@click.argument("exports", nargs=-1, required=True)
@plan_option
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="A model file written by `trackplan train`.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The CSV to write: person_id, probability (or predicted_value), snapshot_at.",
)
def score(exports: tuple[str, ...], plan_dir: Path, model_path: Path, output: Path) -> None:
    """Score every person whose snapshot time has come with a trained model: one row each."""
    from compiler.models import modelfile
    from compiler.models.score import score_snapshots, write_scores

    plan = load_plan_or_fail(plan_dir)
    try:
        model = modelfile.load(model_path)
        modelfile.check_plan(model, plan, model_path)
    except modelfile.ModelFileError as exc:
        raise InputError(str(exc)) from None
    spec = model_spec(plan, model.name)
    con, _ = open_exports(exports, plan)
    with progress() as bar:
        bar.add_task(f"{spec.name}: computing features and scoring", total=None)
        scores = score_snapshots(con, plan, spec, model)
    try:
        n = write_scores(output, scores)
    except OSError as exc:
        raise InputError(f"{output}: cannot write the scores ({exc.strerror})") from None
    click.echo(f"scored {n:,} persons with {spec.name}; wrote {output}")
