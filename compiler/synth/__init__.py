"""Synthetic PostHog exports: people simulated through the plan's funnel.

`synthesize(plan, config, users, days, seed, profile=None)` draws everyone's latent facts at
once with numpy, then emits each person's events in time order and yields them in chunks of rows
(timeline.Row), so a writer (export.py) never holds the whole export. The same seed gives the
same rows. Without a profile the generic engine (engine.py) works from the plan alone; a plan's
behaviour profile (profile.py) can tell a richer story.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.plan.model import Plan
from compiler.simulation.config import SimConfig
from compiler.synth.profile import Person, Profile, ProfileError, generic
from compiler.synth.timeline import Row

__all__ = ["CHUNK_PEOPLE", "Person", "ProfileError", "Run", "synthesize"]
CHUNK_PEOPLE = 4000


@dataclass(frozen=True)
class Run:
    """One synth run: the profile, what it prepared, and everyone's latent draw."""

    profile: Profile
    world: Any
    population: Any

    def truth_fields(self) -> tuple[str, ...]:
        return self.profile.truth_fields(self.world)

    def truth(self, people: Iterable[Person]) -> Iterator[dict[str, Any]]:
        for person in people:
            yield self.profile.truth(self.world, self.population, person)


def synthesize(
    plan: Plan,
    config: SimConfig | None,
    users: int,
    days: int,
    seed: int,
    profile: Profile | None = None,
) -> tuple[Run, Iterator[tuple[list[Row], list[Person]]]]:
    """The run and a generator of (rows, people) chunks in person order. `config` None: the
    plan's own rates. Raises ProfileError when the profile does not fit the plan."""
    chosen = profile or generic()
    problems = chosen.check(plan)
    if problems:
        raise ProfileError("; ".join(problems))
    world = chosen.prepare(plan, config)
    population = chosen.draw(world, users, days, np.random.default_rng(seed))
    run = Run(chosen, world, population)
    return run, _chunks(run, users, seed)


def _chunks(run: Run, users: int, seed: int) -> Iterator[tuple[list[Row], list[Person]]]:
    r = random.Random(seed)
    for start in range(0, users, CHUNK_PEOPLE):
        rows: list[Row] = []
        people: list[Person] = []
        for i in range(start, min(start + CHUNK_PEOPLE, users)):
            tl, kept = run.profile.live(run.world, run.population, i, r)
            rows.extend(tl.rows)
            people.append(Person(i, tl.person_id, tl.anon_id, tl.user_id, kept))
        yield rows, people
