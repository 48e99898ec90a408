"""Simulation target: generated/simulation/config.json, the default simulation config.

The plan's chain (the states with the event that marks each) and rule states, the transition
rates the plan gives (a transition without a default is left out; `simulate` names it), the
forecast's outcomes, its entry rate (an assumption) and the churn hazard, in the
`trackplan-simulation/2` format that `simulate` and `synth` read and `fit` writes.

A plan whose funnel has no chain (no state marked by an event) gets no config: there is nothing
to simulate, and lint owns the funnel's checks.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from compiler.plan.model import Plan
from compiler.simulation.config import ConfigError, config_from_plan

NAME = "simulation"
OUTPUT_DIR = "simulation"
DESCRIPTION = "Simulation config: funnel chain, default transition rates, outcomes, hazard"


def simulates(plan: Plan) -> bool:
    return bool(plan.chain)


def render(plan: Plan) -> dict[PurePosixPath, str]:
    if not simulates(plan):
        return {}
    try:
        config = config_from_plan(plan)
    except ConfigError:
        return {}
    return {PurePosixPath(OUTPUT_DIR, "config.json"): config.dumps()}


def skipped(plan: Plan) -> dict[str, str]:
    if not simulates(plan):
        return {"config.json": "the plan's funnel has no state marked by an event"}
    try:
        config_from_plan(plan)
    except ConfigError as exc:
        return {"config.json": str(exc)}
    return {}
