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
# per test session and plan is enough. Keyed by id(): plans are session fixtures.
_RENDERED: dict[tuple[int, str], dict[PurePosixPath, str]] = {}


def rendered(plan: Plan, target: str) -> dict[PurePosixPath, str]:
    key = (id(plan), target)
    if key not in _RENDERED:
        _RENDERED[key] = get(target).render(plan)
    return _RENDERED[key]


def write_target(plan: Plan, target: str, root: Path) -> Path:
    """Write `target`'s files for `plan` under `root`; returns root/<output_dir>."""
    for rel, text in rendered(plan, target).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / get(target).output_dir


@contextmanager
def python_package(plan: Plan, root: Path) -> Iterator[ModuleType]:
    """The generated `blanklogo_analytics` for `plan`, imported from `root`, then forgotten."""
    folder = write_target(plan, "python", root)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("blanklogo_analytics")
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.startswith("blanklogo_analytics")]:
            del sys.modules[name]
