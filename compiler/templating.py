"""The one Jinja2 environment factory; filters live here too."""

from __future__ import annotations

import jinja2


def environment(autoescape: bool = False) -> jinja2.Environment:
    """Templates under compiler/templates/; undefined names fail loudly."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("compiler", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=autoescape,
    )
