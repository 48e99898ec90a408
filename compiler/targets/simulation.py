"""Simulation target: generated/simulation/config.json, the default simulation config.

The states with the event that marks each, the transition rates kept in tracking_plan/funnel.yaml
(seeded from the PRD §12 example) and the churn-hazard parameters, in the
`trackplan-simulation/1` format that `simulate` and `synth` read and `fit` writes.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from compiler.plan.model import Plan
from compiler.simulation.config import config_from_plan

NAME = "simulation"
OUTPUT_DIR = "simulation"
DESCRIPTION = "Simulation config: funnel states, default transition rates, churn hazard"


def render(plan: Plan) -> dict[PurePosixPath, str]:
    return {PurePosixPath(OUTPUT_DIR, "config.json"): config_from_plan(plan).dumps()}
