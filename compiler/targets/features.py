"""Features target: each model's feature + label SQL for HogQL, ClickHouse and DuckDB.

`generated/features/<dialect>/<model>.sql`, one definition per model (compiler/models/features.py)
rendered per dialect, so a warehouse can compute the features where the data lives.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from compiler.funnel import dialects
from compiler.models.features import render as render_model
from compiler.plan.model import Plan

NAME = "features"
OUTPUT_DIR = "features"
DESCRIPTION = "Model features and labels per person snapshot (plan section models), per dialect"


def render(plan: Plan) -> dict[PurePosixPath, str]:
    if plan.models is None:
        return {}
    files = {}
    for dialect in dialects.DIALECTS:
        for name, spec in plan.models.models.items():
            files[PurePosixPath(OUTPUT_DIR, dialect, f"{name}.sql")] = render_model(
                plan, spec, dialect
            )
    return dict(sorted(files.items()))


def skipped(plan: Plan) -> dict[str, str]:
    if plan.models is None:
        return {"features": "the plan declares no models section"}
    if not plan.models.models:
        return {"features": "the plan's models section declares no models"}
    return {}
