"""SQL target: the funnel queries for HogQL, ClickHouse and DuckDB, from one definition each.

`generated/sql/<dialect>/<query>.sql`; see compiler/funnel/ for the definitions and the
dialect registry.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from compiler.funnel import dialects
from compiler.funnel.render import not_applicable, render_dialect
from compiler.plan.model import Plan

NAME = "sql"
OUTPUT_DIR = "sql"
DESCRIPTION = "Funnel SQL (transitions, milestones, purchase per click, churn) per dialect"


def render(plan: Plan) -> dict[PurePosixPath, str]:
    files = {}
    for dialect in dialects.DIALECTS:
        for name, text in render_dialect(plan, dialect).items():
            files[PurePosixPath(OUTPUT_DIR, dialect, name)] = text
    return dict(sorted(files.items()))


def skipped(plan: Plan) -> dict[str, str]:
    """Each query the plan cannot support, with why (the same in every dialect)."""
    return {f"{name}.sql": why for name, why in not_applicable(plan).items()}
