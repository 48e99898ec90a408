"""Render a target into a temporary folder so tests exercise today's compiler, not whatever was
last committed under generated/ (`trackplan build --check` guards that the two agree)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import ModuleType

from compiler.plan import Plan
from compiler.targets import get

NODE_DIR = Path(__file__).resolve().parent / "node"
TSC = NODE_DIR / "node_modules" / ".bin" / "tsc"
# The strict tsconfig usage files are checked with (each adds its own "files").
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "lib": ["ES2022", "DOM"],
        "types": [],
        "skipLibCheck": True,
    }
}

# Rendering the shipped plan's Python package takes seconds (datamodel-codegen + black): once
# per test session and plan is enough. Keyed by id(): plans are session fixtures (and kept
# alive here, so an id is never reused by another plan).
_RENDERED: dict[tuple[int, str, str], tuple[Plan, dict[PurePosixPath, str]]] = {}


def rendered(plan: Plan, target: str, source: str = "tracking_plan") -> dict[PurePosixPath, str]:
    key = (id(plan), target, source)
    if key not in _RENDERED:
        _RENDERED[key] = (plan, get(target).render(plan, source))
    return _RENDERED[key][1]


def write_target(plan: Plan, target: str, root: Path, source: str = "tracking_plan") -> Path:
    """Write `target`'s files for `plan` under `root`; returns root/<output_dir>."""
    for rel, text in rendered(plan, target, source).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / get(target).output_dir


@contextmanager
def python_package(plan: Plan, root: Path) -> Iterator[ModuleType]:
    """The generated package for `plan` (its codegen name), imported from `root`, then
    forgotten."""
    folder = write_target(plan, "python", root)
    package = plan.codegen.python_package
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]


def mypy_strict(cwd: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    """`mypy --strict TARGETS` in `cwd` (its own cache there), one error per line."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(cwd / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            *targets,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def tsc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """tests/node's `tsc ARGS` in `cwd`, one error per line."""
    return subprocess.run(
        [str(TSC), "--pretty", "false", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def marked_lines(source: str, marker: str) -> set[int]:
    """The line numbers that carry `marker`: each must be a type error."""
    return {n for n, line in enumerate(source.splitlines(), 1) if marker in line}
