"""BlankLogo's behaviour profile for `trackplan synth` (the plan opts in with
`synth: {profile: synth_profile}`).

It tells BlankLogo's own story on top of the funnel: the first session with ad attribution,
signup and the email loop, watermark-removal jobs that fail, run slow and refund their credit,
credit balances that add up, a price list with coupons, subscriptions that renew and cancel,
top-ups, refunds and rare incidents (errors, declined invoices, account deletions). The rates
come from the simulation config: the chain S0..S9, P(S10|S9) and the hazard's failed_job and
slow_job covariates. It implements `compiler.synth.profile.Profile`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler.plan.model import Plan
from compiler.simulation.config import SimConfig, config_from_plan
from compiler.synth.profile import Person
from compiler.synth.timeline import Envelope

from . import catalog, incidents
from . import truth as _truth
from .account import Account
from .journey import attribution
from .person import live as _live
from .population import Population
from .population import draw as _draw


@dataclass(frozen=True)
class World:
    plan: Plan
    config: SimConfig
    envelope: Envelope
    expected: _truth.Expected


def check(plan: Plan) -> list[str]:
    missing = [name for name in catalog.EVENTS if name not in plan.events]
    if missing:
        return [
            f"the BlankLogo profile sends these events, which the plan lacks: {', '.join(missing)}"
        ]
    return []


def prepare(plan: Plan, config: SimConfig | None) -> World:
    config = config or config_from_plan(plan)
    return World(plan, config, Envelope(plan), _truth.expected(config))


def draw(world: World, users: int, days: int, rng: np.random.Generator) -> Population:
    return _draw(world.config, users, days, rng)


def live(world: World, pop: Population, i: int, r: random.Random) -> tuple[Account, None]:
    ids = attribution(pop, i, r)
    initial = {
        "$initial_utm_source": ids["utm_source"],
        "$initial_utm_campaign": ids["utm_campaign"],
    }
    tl = Account(world.envelope, r, int(pop.arrival_us[i]), ids, initial)
    _live(tl, pop, i)
    return tl, None


def truth_fields(world: World) -> tuple[str, ...]:
    return _truth.FIELDS


def truth(world: World, pop: Population, person: Person) -> dict[str, Any]:
    return _truth.record(world.expected, pop, person)


__all__ = ["catalog", "incidents", "check", "prepare", "draw", "live", "truth_fields", "truth"]
