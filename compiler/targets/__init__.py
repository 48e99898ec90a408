"""The one registry of build targets. Adding a target is one module and one line in TARGETS.

Each target module exposes NAME, OUTPUT_DIR (the folder under generated/ it owns), DESCRIPTION
and a pure `render(plan) -> dict[PurePosixPath, str]` whose paths start with OUTPUT_DIR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import ModuleType

from compiler.diagnostics import did_you_mean
from compiler.plan.model import Plan
from compiler.targets import docs, jsonschema, python, sql, typescript
from compiler.targets import simulation as simulation_target


@dataclass(frozen=True)
class Target:
    name: str
    output_dir: str
    description: str
    render: Callable[[Plan], dict[PurePosixPath, str]]


def _target(module: ModuleType) -> Target:
    return Target(module.NAME, module.OUTPUT_DIR, module.DESCRIPTION, module.render)


TARGETS: dict[str, Target] = {
    t.name: t for t in map(_target, (jsonschema, python, typescript, sql, simulation_target, docs))
}


class UnknownTarget(LookupError):
    pass


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        hint = did_you_mean(name, TARGETS)
        raise UnknownTarget(f"unknown target '{name}'.{hint} Known: {', '.join(TARGETS)}") from None
