"""Writing a new plan directory (`trackplan infer`, `trackplan import`): refuse to write over
anything but the plan files these commands write themselves, and report I/O errors as input
errors. Light on imports: `import` must not pay for DuckDB."""

from __future__ import annotations

from pathlib import Path

from compiler.cli.common import InputError
from compiler.infer.write import FILES
from compiler.plan.source import plan_files


def check_target(directory: Path, force: bool) -> None:
    """InputError unless `directory` is new or empty, or --force and it holds no other YAML."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    if not directory.is_dir():
        return
    try:
        if not any(directory.iterdir()):
            return
        existing = plan_files(directory)
    except OSError as exc:
        raise InputError(f"cannot read {directory}: {exc.strerror or exc}") from None
    if not force:
        raise InputError(f"{directory} is not empty; pass --force to overwrite its plan files")
    others = [p for p in existing if p.name not in FILES or p.parent != directory]
    if others:
        shown = ", ".join(str(p) for p in others[:3]) + (" ..." if len(others) > 3 else "")
        raise InputError(
            f"{directory} holds other YAML files ({shown}); every YAML file under a plan "
            "directory is part of the plan, so write into a new or empty directory"
        )


def write_files(directory: Path, files: dict[str, str]) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write into {directory}: {exc.strerror or exc}") from None
