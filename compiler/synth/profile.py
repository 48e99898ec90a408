"""Behaviour profiles: a plan's own story for `trackplan synth`, beside the plan, not in the tool.

A profile is a Python package in the plan directory (`synth: {profile: NAME}` in the plan, or
`--profile NAME`), loaded with importlib under a private module name. Its top level provides
the functions of `Profile`; the engine calls them in this order:

    world = prepare(plan, config)            # anything the profile wants to read once
    problems = check(plan)                   # e.g. events it sends that the plan lacks
    population = draw(world, users, days, rng)   # everyone at once (numpy Generator)
    timeline, kept = live(world, population, i, r)   # person i's events, in person order;
                                             # `r` is one random.Random shared by everyone
    truth_fields(world) -> names; truth(world, population, person) -> one record per person

`person` is a `Person`: index, ids, and what `live` kept. Without a profile the generic engine
(compiler/synth/engine.py) plays the same part. A profile may use `compiler.synth.timeline`
(Timeline, Envelope, ids) and `compiler.synth.values` to build valid events.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

import numpy as np

from compiler.plan.model import Plan
from compiler.simulation.config import SimConfig
from compiler.synth.timeline import Timeline

FUNCTIONS = ("prepare", "check", "draw", "live", "truth_fields", "truth")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ProfileError(ValueError):
    """A profile that cannot be loaded or does not fit the plan; the message says why."""


@dataclass(frozen=True)
class Person:
    """A simulated person as the truth file sees them."""

    index: int
    person_id: str
    anon_distinct_id: str
    user_id: str | None
    kept: Any  # what the profile's `live` returned beside the timeline


class Profile(Protocol):
    def prepare(self, plan: Plan, config: SimConfig | None) -> Any: ...

    def check(self, plan: Plan) -> list[str]: ...

    def draw(self, world: Any, users: int, days: int, rng: np.random.Generator) -> Any: ...

    def live(
        self, world: Any, population: Any, i: int, r: random.Random
    ) -> tuple[Timeline, Any]: ...

    def truth_fields(self, world: Any) -> tuple[str, ...]: ...

    def truth(self, world: Any, population: Any, person: Person) -> dict[str, Any]: ...


def generic() -> Profile:
    from compiler.synth import engine

    return cast(Profile, engine)


def load_profile(plan_dir: Path, name: str) -> Profile:
    """The package `plan_dir/name`, imported as `trackplan_profile_<name>_<crc of its path>`."""
    if not _NAME.match(name):
        raise ProfileError(f"profile '{name}' is not a Python package name")
    root = plan_dir / name
    init = root / "__init__.py"
    if not init.is_file():
        raise ProfileError(f"{root}: no synth profile here (expected a package with __init__.py)")
    module_name = f"trackplan_profile_{name}_{zlib.crc32(str(root.resolve()).encode()):08x}"
    module = sys.modules.get(module_name)
    if module is None:
        module = _import(module_name, init, root)
    missing = [f for f in FUNCTIONS if not callable(getattr(module, f, None))]
    if missing:
        raise ProfileError(f"{root}: the profile lacks {', '.join(missing)} (see `Profile`)")
    return cast(Profile, module)


def _import(module_name: str, init: Path, root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        module_name, init, submodule_search_locations=[str(root)]
    )
    if spec is None or spec.loader is None:
        raise ProfileError(f"{root}: cannot import the profile")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the profile's own code: say where it failed, no traceback
        del sys.modules[module_name]
        raise ProfileError(f"{root}: the profile failed to import: {exc!r}") from None
    return module
