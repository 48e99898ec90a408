"""Simulation target: generated/simulation/config.json, the default simulation config.

The states with the event that marks each, the transition rates kept in tracking_plan/funnel.yaml
(seeded from the PRD §12 example) and the churn-hazard parameters, in the
`trackplan-simulation/1` format that `simulate` and `synth` read and `fit` writes.

A plan whose funnel is not a full simulation (no churn_hazard, or not every transition S1|S0 to
S10|S9) gets no config: there is nothing to simulate, and lint owns the funnel's checks.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from compiler.plan.model import Plan
from compiler.simulation.config import config_from_plan

NAME = "simulation"
OUTPUT_DIR = "simulation"
DESCRIPTION = "Simulation config: funnel states, default transition rates, churn hazard"


def simulates(plan: Plan) -> bool:
    names = {t.name for t in plan.transitions}
    chain = {f"S{k}|S{k - 1}" for k in range(1, 11)}
    return plan.churn_hazard is not None and chain <= names and len(plan.states) >= 11


def render(plan: Plan) -> dict[PurePosixPath, str]:
    if not simulates(plan):
        return {}
    return {PurePosixPath(OUTPUT_DIR, "config.json"): config_from_plan(plan).dumps()}
