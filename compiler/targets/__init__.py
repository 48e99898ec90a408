"""The one registry of build targets. Adding a target is one module and one line in TARGETS.

Each target module exposes NAME, OUTPUT_DIR (the folder under generated/ it owns), DESCRIPTION
and a pure `render(plan) -> dict[PurePosixPath, str]` whose paths start with OUTPUT_DIR, and
may expose `skipped(plan) -> {what: why}` for what the plan cannot support. A target
whose headers name the plan directory takes it as data: `render(plan, *, source=...)` (the
directory as the user gave it, see `build.plan_source`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import ModuleType

from compiler.diagnostics import did_you_mean
from compiler.plan.model import Plan
from compiler.targets import docs, features, jsonschema, python, sql, typescript
from compiler.targets import simulation as simulation_target
from compiler.templating import DEFAULT_SOURCE


@dataclass(frozen=True)
class Target:
    name: str
    output_dir: str
    description: str
    renderer: Callable[..., dict[PurePosixPath, str]]
    takes_source: bool = False  # its headers name the plan directory
    skipper: Callable[[Plan], dict[str, str]] | None = None

    def skipped(self, plan: Plan) -> dict[str, str]:
        """{file or part left out: one line why}, for what the plan cannot support."""
        return self.skipper(plan) if self.skipper is not None else {}

    def render(self, plan: Plan, source: str = DEFAULT_SOURCE) -> dict[PurePosixPath, str]:
        if self.takes_source:
            return self.renderer(plan, source=source)
        return self.renderer(plan)


def _target(module: ModuleType) -> Target:
    takes_source = "source" in inspect.signature(module.render).parameters
    skipper = getattr(module, "skipped", None)
    return Target(
        module.NAME, module.OUTPUT_DIR, module.DESCRIPTION, module.render, takes_source, skipper
    )


TARGETS: dict[str, Target] = {
    t.name: t
    for t in map(_target, (jsonschema, python, typescript, sql, features, simulation_target, docs))
}


class UnknownTarget(LookupError):
    pass


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        hint = did_you_mean(name, TARGETS)
        raise UnknownTarget(f"unknown target '{name}'.{hint} Known: {', '.join(TARGETS)}") from None
