"""The one Jinja2 environment every text target renders with.

Templates only loop and branch over view models decided in Python; they never compute names,
types or imports. Undefined names fail loudly (StrictUndefined) so a typo cannot render as "".
Autoescape is off: the outputs are source code, not HTML.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2


def _json(value: Any, indent: int | None = None) -> str:
    """A value as a JSON (and TypeScript) literal, keys sorted so output is deterministic."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compiler", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["json"] = _json
    env.filters["pyrepr"] = repr
    return env
