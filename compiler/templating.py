"""The one Jinja2 environment factory every text target renders with, and its filters.

Templates live in `compiler/templates/`; they only loop and branch over view models decided in
Python and never compute names, types or imports. Undefined names fail loudly (StrictUndefined)
so a typo cannot render as "". Autoescape is on for HTML (docs, report) and off for source code.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2


def _json(value: Any, indent: int | None = None) -> str:
    """A value as a JSON (and TypeScript) literal, keys sorted so output is deterministic."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent)


def environment(autoescape: bool = False) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compiler", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["json"] = _json
    env.filters["pyrepr"] = repr
    return env
