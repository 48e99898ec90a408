"""Doc site target: a static HTML site of the plan under generated/docs/, browsable offline.

The committed site carries no audit data; `trackplan docs --audit report.json` renders the same
pages with each event's production health (see compiler/docs/).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from compiler.plan.model import Plan

NAME = "docs"
OUTPUT_DIR = "docs"
DESCRIPTION = "Static HTML doc site: home with funnel and search, one page per event and property"


def render(plan: Plan) -> dict[PurePosixPath, str]:
    # Imported here: compiler.docs reuses compiler.targets.jsonschema, whose package imports us.
    from compiler.docs.site import render_site

    return {PurePosixPath(OUTPUT_DIR) / path: text for path, text in render_site(plan).items()}
