"""`trackplan train EXPORT... --model NAME -o MODEL_FILE [--plan DIR] [--format json]`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from compiler.cli.common import InputError, plan_option, progress
from compiler.cli.rates import load_plan_or_fail, open_exports
from compiler.plan.model import Plan
from compiler.plan.model_models import ModelSpec


def model_spec(plan: Plan, name: str) -> ModelSpec:
    """The plan's model `name`, or a usage error naming the ones it has."""
    from compiler.diagnostics import did_you_mean

    known = plan.models.models if plan.models is not None else {}
    if name not in known:
        listed = ", ".join(known) or "none (the plan has no models section)"
        raise InputError(f"unknown model '{name}'.{did_you_mean(name, known)} Known: {listed}")
    return known[name]


@click.command()
@click.argument("exports", nargs=-1, required=True)
@plan_option
@click.option("--model", "model_name", required=True, help="A model of the plan's models section.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The model file to write (JSON with the fitted estimators inside).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the fits.")
@click.option(
    "--importances/--no-importances",
    default=True,
    show_default=True,
    help="Compute permutation importances on the holdout (each feature shuffled five times and "
    "the holdout scored again). --no-importances saves that time and leaves them out of the "
    "model file, its summary and the report. A hazard model's coefficients are kept.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def train(
    exports: tuple[str, ...],
    plan_dir: Path,
    model_name: str,
    output: Path,
    seed: int,
    importances: bool,
    fmt: str,
) -> None:
    """Train a model the plan declares on exports: time-based holdout, calibrated probabilities,
    metrics beside a linear baseline, permutation importances. Exit 2 below its data minimum."""
    from compiler.models import modelfile, summary
    from compiler.models.dataset import load_snapshots
    from compiler.models.train import TrainRefused
    from compiler.models.train import train as fit

    plan = load_plan_or_fail(plan_dir)
    spec = model_spec(plan, model_name)
    con, _ = open_exports(exports, plan)
    with progress() as bar:
        task = bar.add_task(f"{spec.name}: computing features", total=None)
        snaps = load_snapshots(con, plan, spec)
        try:
            result = fit(
                snaps, spec, seed, lambda what: bar.update(task, description=what), importances
            )
        except TrainRefused as exc:
            raise InputError(str(exc)) from None
    data = {**summary.meta(result, plan), "libraries": modelfile.libraries()}
    try:
        output.write_text(modelfile.dumps(data, result.estimators), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{output}: cannot write the model file ({exc.strerror})") from None
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for line in summary.text(data, str(output)):
        click.echo(line)
