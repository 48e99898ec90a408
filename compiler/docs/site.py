"""Render the whole doc site: `{relative path: text}`, pages and assets, deterministic.

Pages link to each other with relative URLs (`root` is "" at the top, "../" one level down), so
the site works from file:// and from any sub-path of a static host.
"""

from __future__ import annotations

import functools
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from compiler.docs import overview, views
from compiler.docs.funnel import diagram
from compiler.docs.funnel_page import funnel_page
from compiler.docs.health import Health
from compiler.docs.history import History
from compiler.docs.search_index import search_script
from compiler.plan.model import Plan
from compiler.templating import environment

ASSETS = ("style.css", "search.js", "copy.js")


@functools.cache
def _environment() -> jinja2.Environment:
    # Compiling the templates is a third of a render; reuse them across renders in one process.
    return environment(autoescape=True)


def _page(env: jinja2.Environment, name: str, common: dict[str, Any], **extra: Any) -> str:
    """Render `docs/<name>.html.j2`; `name` also marks the current entry of the navigation."""
    return env.get_template(f"docs/{name}.html.j2").render(**common, current=name, **extra)


def _asset(env: jinja2.Environment, name: str) -> str:
    # Static files are copied verbatim, never run through Jinja.
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, f"docs/assets/{name}")
    return source


def render_site(
    plan: Plan, health: Health | None = None, history: History | None = None
) -> dict[PurePosixPath, str]:
    """Every file of the site, keyed by its path relative to the site root; each event page
    shows its change history when `history` is given (never in `trackplan build`)."""
    env = _environment()
    source = PurePosixPath(Path(health.source).as_posix()).name if health else ""
    top = {"plan": plan, "health_source": source, "root": ""}
    down = {**top, "root": "../"}
    files: dict[str, str] = {
        "index.html": _page(env, "home", top, page=overview.home_page(plan, health)),
        "properties.html": _page(env, "properties", top, entries=overview.property_index(plan)),
        "glossary.html": _page(env, "glossary", top, page=overview.glossary_page(plan)),
        "funnel.html": _page(
            env,
            "funnel",
            top,
            page=funnel_page(plan),
            diagrams=(diagram(plan, 4), diagram(plan, 2)) if plan.states else (),
        ),
        "assets/search-index.js": search_script(plan),
    }
    if plan.meta is not None:  # no Meta destination, no Meta page or link
        files["meta.html"] = _page(env, "meta", top, rows=overview.meta_rows(plan))
    for name in ASSETS:
        files[f"assets/{name}"] = _asset(env, name)
    for event in plan.events.values():
        event_page = views.event_page(plan, event, health)
        changes = history.for_event(event.name) if history else None
        files[f"events/{event.name}.html"] = _page(
            env, "event", down, page=event_page, history=changes
        )
    for prop in plan.properties.values():
        prop_page = views.property_page(plan, prop)
        files[f"properties/{prop.name}.html"] = _page(env, "property", down, page=prop_page)
    return {PurePosixPath(p): text for p, text in sorted(files.items())}
