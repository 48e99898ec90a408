"""The generic engine: synth for any lint-clean plan, as a `Profile` (see profile.py).

People are drawn at once (draw.py); each person's plan (life.py) is sent event by event
(emit.py) through a `Timeline` whose envelope follows the plan's roles. Their ids follow the
identity rule's prefixes and the dictionary's constraints on the distinct id and user id fields;
envelope fields without a role get one value per person (required ones on every event, the
others on the first session's browser events, like campaign tags).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.plan.model import Plan
from compiler.simulation.config import SimConfig
from compiler.synth import truth as facts
from compiler.synth.draw import People, draw_people
from compiler.synth.emit import Emitter
from compiler.synth.life import Life
from compiler.synth.params import params_from_config, params_from_plan
from compiler.synth.profile import Person
from compiler.synth.timeline import Timeline, hex_id
from compiler.synth.values import MISSING
from compiler.synth.world import World, build_world

OPTIONAL_ENVELOPE_SHARE = 0.5  # people whose first session carries an optional envelope field


@dataclass
class Lived:
    """What the engine keeps of a person for the truth file."""

    facts: dict[str, Any]
    dropped: int
    unsent: int


def prepare(plan: Plan, config: SimConfig | None) -> World:
    params = params_from_plan(plan) if config is None else params_from_config(config)
    return build_world(plan, params)


def check(plan: Plan) -> list[str]:
    return []  # any lint-clean plan


def draw(world: World, users: int, days: int, rng: np.random.Generator) -> People:
    return draw_people(world, users, days, rng)


def live(world: World, people: People, i: int, r: random.Random) -> tuple[Timeline, Lived]:
    anon, user = _ids(world, r)
    extra, first = _envelope_values(world, r)
    tl = Timeline(
        world.envelope,
        r,
        int(people.arrival_us[i]),
        envelope_keys(first, world),
        {},
        extra=envelope_keys(extra, world),
        anon_id=anon,
    )
    life = Life(world, people, i, r)
    emitter = Emitter(world, life, tl, user, {**extra, **first})
    emitter.run()
    lived = Lived(facts.realize(world, people, i, tl.rows), emitter.dropped, emitter.unsent)
    return tl, lived


def truth_fields(world: World) -> tuple[str, ...]:
    return facts.fields(world)


def truth(world: World, people: People, person: Person) -> dict[str, Any]:
    kept: Lived = person.kept
    ids = {"person_id": person.person_id, "anon_distinct_id": person.anon_distinct_id}
    return ids | {"user_id": person.user_id} | kept.facts


# -- ids and envelope values -------------------------------------------------------------------


def _key(world: World, name: str) -> str:
    return world.envelope.keys.get(name, name)


def _fits(world: World, value: str, *roles: str) -> bool:
    for role in roles:
        field = world.roles[role]
        if field is not None and not world.values.valid(field.property, value):
            return False
    return True


def _id(world: World, r: random.Random, prefix: str, roles: tuple[str, ...]) -> str:
    """prefix + 64 random bits when the dictionary allows it, else a value of the field's own."""
    plain = prefix + hex_id(r, 64)
    if _fits(world, plain, *roles):
        return plain
    field = world.roles[roles[-1]]
    assert field is not None
    fallback: str | None = None
    for _ in range(20):
        value = world.values.draw(field.property, r)
        if isinstance(value, str) and _fits(world, value, *roles):
            if value.startswith(prefix):
                return value
            fallback = fallback or value
    return fallback or plain


def _ids(world: World, r: random.Random) -> tuple[str, str]:
    env = world.envelope
    anon = _id(world, r, env.anonymous_prefix, ("distinct_id",))
    user_roles = ("distinct_id", "user_id") if world.roles["user_id"] else ("distinct_id",)
    return anon, _id(world, r, env.user_prefix, user_roles)


def _envelope_values(world: World, r: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """(required fields without a role: on every event, optional ones: first session)."""
    every: dict[str, Any] = {}
    first: dict[str, Any] = {}
    for field in world.plan.envelope:
        if field.role is not None or field.property.deprecated:
            continue
        if not field.required and r.random() >= OPTIONAL_ENVELOPE_SHARE:
            continue
        value = world.values.draw(field.property, r)
        if value is not MISSING:
            (every if field.required else first)[field.name] = value
    return every, first


def envelope_keys(values: Mapping[str, Any], world: World) -> dict[str, Any]:
    return {_key(world, k): v for k, v in values.items()}
