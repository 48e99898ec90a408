"""The one Jinja2 environment factory every text target renders with.

Templates live in `compiler/templates/`; they get ready-made view models and hold no logic
beyond loops and simple conditionals.
"""

from __future__ import annotations

import jinja2


def environment(autoescape: bool) -> jinja2.Environment:
    """A strict environment: an undefined name is an error; autoescape on for HTML."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("compiler", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
