"""Synthetic PostHog exports: people simulated through the plan's state machine.

`synthesize(plan, config, users, days, seed)` draws everyone's latent parameters and funnel path
at once with numpy (population.py), then emits each person's events in time order (person.py)
and yields them in chunks of rows (timeline.Row), so a writer (export.py) never holds the whole
export. The same seed gives the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from compiler.plan.model import Plan
from compiler.simulation.config import SimConfig
from compiler.synth.catalog import EVENTS
from compiler.synth.journey import attribution
from compiler.synth.person import live
from compiler.synth.population import Population, draw
from compiler.synth.timeline import Row, Timeline

CHUNK_PEOPLE = 4000


@dataclass(frozen=True)
class Person:
    """Who a simulated person is in the export (for the truth file)."""

    index: int
    person_id: str
    anon_distinct_id: str
    user_id: str | None


def missing_events(plan: Plan) -> list[str]:
    """Events synth emits that the plan does not define (synth needs a BlankLogo-like plan)."""
    return [name for name in EVENTS if name not in plan.events]


def event_sources(plan: Plan) -> dict[str, str]:
    """The layer each event is sent from: the first layer the plan allows it on."""
    return {name: event.layers[0] for name, event in plan.events.items()}


def synthesize(
    plan: Plan, config: SimConfig, users: int, days: int, seed: int
) -> tuple[Population, Iterator[tuple[list[Row], list[Person]]]]:
    """The population and a generator of (rows, people) chunks in person order."""
    population = draw(config, users, days, np.random.default_rng(seed))
    return population, _chunks(plan, population, seed)


def _chunks(plan: Plan, pop: Population, seed: int) -> Iterator[tuple[list[Row], list[Person]]]:
    sources = event_sources(plan)
    r = random.Random(seed)
    for start in range(0, pop.size, CHUNK_PEOPLE):
        rows: list[Row] = []
        people: list[Person] = []
        for i in range(start, min(start + CHUNK_PEOPLE, pop.size)):
            ids = attribution(pop, i, r)
            initial = {
                "$initial_utm_source": ids["utm_source"],
                "$initial_utm_campaign": ids["utm_campaign"],
            }
            tl = Timeline(r, sources, int(pop.arrival_us[i]), ids, initial)
            live(tl, pop, i)
            rows.extend(tl.rows)
            people.append(Person(i, tl.person_id, tl.anon_id, tl.user_id))
        yield rows, people
