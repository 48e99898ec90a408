"""`trackplan init [DIR]`: write a small, commented starter plan that lints clean and builds.

The starter's files are Jinja2 templates (`compiler/templates/init/`); `starter_files` renders
them (pure), the command checks the directory, writes them and lints the result.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

import click

from compiler.cli.common import EXIT_FINDINGS, EXIT_OK, InputError, print_diagnostics
from compiler.plan import load_plan
from compiler.plan.pipeline import PlanNotFound
from compiler.plan.resolve_analytics import package_names, slug
from compiler.plan.source import plan_files
from compiler.templating import environment

DEFAULT_DIR = Path("tracking_plan")
DEFAULT_NAME = "MyApp"
# The starter's files, in the order they are written and listed.
FILES = (
    "plan.yaml",
    "envelope.yaml",
    "properties.yaml",
    "events.yaml",
    "funnel.yaml",
    "lifecycle.yaml",
)


def check_name(name: str) -> str:
    """The plan name, stripped; InputError when it cannot name a plan."""
    name = name.strip()
    if not name:
        raise InputError("--name must not be empty")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InputError("--name must be one line of text without control characters")
    if len(name) > 80:
        raise InputError(f"--name is {len(name)} characters long; keep it under 80")
    if not any(ch.isalnum() for ch in name):
        raise InputError(f"--name '{name}' needs at least one letter or digit")
    return name


def starter_files(name: str) -> dict[str, str]:
    """{file name: text} of the starter plan for a product called `name` (already checked)."""
    package, distribution, npm = package_names(name)
    context = {
        "name": name,
        "name_yaml": json.dumps(name, ensure_ascii=False),  # a JSON string is a YAML scalar
        "slug": slug(name).replace("_", "-"),
        "python_package": package,
        "python_distribution": distribution,
        "npm_package": npm,
    }
    env = environment()
    return {f: env.get_template(f"init/{f}.j2").render(**context) for f in FILES}


def _conflicts(directory: Path, force: bool) -> None:
    """InputError when writing the starter into `directory` would clobber or mix with files."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    if not directory.is_dir():
        return
    try:
        existing = plan_files(directory)
    except OSError as exc:
        raise InputError(f"cannot read {directory}: {exc.strerror or exc}") from None
    ours = [directory / f for f in FILES if (directory / f) in existing]
    others = [p for p in existing if p not in ours]
    if ours and not force:
        names = ", ".join(str(p) for p in ours)
        raise InputError(
            f"{names} already exist{'s' if len(ours) == 1 else ''}; "
            "pass --force to overwrite, or choose another directory"
        )
    if others and not force:
        shown = ", ".join(str(p) for p in others[:3]) + (" ..." if len(others) > 3 else "")
        raise InputError(
            f"{directory} already holds other YAML files ({shown}); every YAML file under the "
            "plan directory is part of the plan, so start it in a new or empty directory"
        )


def _write(directory: Path, files: dict[str, str]) -> list[Path]:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {directory}: {exc.strerror or exc}") from None
    written = []
    for name, text in files.items():
        path = directory / name
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


# click's decorators are untyped for mypy --strict; these typed views keep `init` typed.
_Deco = Callable[[Callable[..., None]], Callable[..., None]]
_directory: _Deco = click.argument(
    "directory", type=click.Path(path_type=Path), default=DEFAULT_DIR, required=False
)
_name: _Deco = click.option(
    "--name",
    default=DEFAULT_NAME,
    show_default=True,
    help="The product's name; the generated packages are named after it (myapp_analytics).",
)
_force: _Deco = click.option("--force", is_flag=True, help="Overwrite the starter's files.")


@click.command()
@_directory
@_name
@_force
def init(directory: Path, name: str, force: bool) -> None:
    """Write a small commented starter plan into DIRECTORY (default: tracking_plan).

    Exit 0 when written (it lints clean), 2 when the files exist (without --force), DIRECTORY
    is a file or cannot be written, or --name is unusable.
    """
    name = check_name(name)
    files = starter_files(name)
    _conflicts(directory, force)
    written = _write(directory, files)
    try:
        result = load_plan(directory)
    except PlanNotFound as exc:  # the files vanished under us
        raise InputError(str(exc)) from None
    click.echo(f"wrote the starter plan of {name} into {directory}/:")
    for path in written:
        click.echo(f"  {path}")
    if result.errors or result.warnings:
        print_diagnostics(list(result.errors + result.warnings))
        click.echo(f"the plan in {directory}/ does not lint clean: other YAML files joined it")
        raise SystemExit(EXIT_FINDINGS)
    plan_arg = "" if directory == DEFAULT_DIR else f" --plan {directory}"
    codegen = result.plan.codegen
    click.echo(
        f"{len(result.plan.events)} events, {len(result.plan.chain)} funnel steps; packages "
        f"{codegen.python_package} (pip) and {codegen.npm_package} (npm)"
    )
    click.echo("next:")
    click.echo(f"  trackplan lint --strict{plan_arg}")
    click.echo(f"  trackplan build{plan_arg}")
    raise SystemExit(EXIT_OK)
