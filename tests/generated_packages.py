"""Render a target into a temporary folder so tests exercise today's compiler, not whatever was
last committed under generated/ (`trackplan build --check` guards that the two agree)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import ModuleType

from compiler.plan import Plan
from compiler.targets import get

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
