"""The doc site target without a browser: files, determinism, examples, snippets, links."""

from __future__ import annotations

import ast
import json
import re
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urldefrag

import pytest
from jsonschema import Draft202012Validator

from compiler.docs import examples, funnel, search_index, snippets
from compiler.docs.site import render_site
from compiler.naming import camel_case, python_identifier
from compiler.targets import docs as docs_target
from compiler.targets.jsonschema import event_schema, property_schema


@pytest.fixture(scope="module")
def site(plan):  # type: ignore[no-untyped-def]
    return render_site(plan)


class _Page(HTMLParser):
    """Collects the links, ids and element names of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for key in ("href", "src"):
            if found.get(key) and tag in ("a", "link", "script"):
                self.links.append(str(found[key]))


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_every_event_and_property_has_a_page(plan, site):
    for name in plan.events:
        assert PurePosixPath(f"events/{name}.html") in site
    for name in plan.properties:
        assert PurePosixPath(f"properties/{name}.html") in site
    for page in ("index.html", "properties.html", "meta.html", "glossary.html", "funnel.html"):
        assert PurePosixPath(page) in site
    assert len(site) == len(plan.events) + len(plan.properties) + 5 + 4  # pages + 4 assets


def test_target_prefixes_its_folder_and_output_is_deterministic(plan):
    first, second = docs_target.render(plan), docs_target.render(plan)
    assert first == second
    assert all(path.parts[0] == "docs" for path in first)
    text = "".join(first.values())
    assert "/work/" not in text and "/tmp/" not in text
    assert not re.search(
        r"20[0-9]{2}-[0-9]{2}-[0-9]{2}T(?!05:12:34\.123Z)", text
    )  # only the fixed example


def test_every_internal_link_and_anchor_resolves(site):
    pages = {path: _parse(text) for path, text in site.items() if path.suffix == ".html"}
    checked = 0
    for path, page in pages.items():
        for link in page.links:
            if re.match(r"^[a-z]+:", link):
                pytest.fail(f"{path} links outside the site: {link}")
            target, fragment = urldefrag(link)
            resolved = path if not target else _resolve(path, target)
            assert resolved in site, f"{path}: broken link {link}"
            if fragment:
                assert fragment in pages[resolved].ids, f"{path}: no #{fragment} in {resolved}"
            checked += 1
    assert checked > 2000


def _resolve(page: PurePosixPath, target: str) -> PurePosixPath:
    parts = list(page.parent.parts)
    for part in target.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return PurePosixPath(*parts)


def test_pages_are_semantic_and_have_unique_ids(site):
    for path, text in site.items():
        if path.suffix != ".html":
            continue
        assert text.startswith('<!DOCTYPE html>\n<html lang="en">'), path
        page = _parse(text)
        assert page.tags.count("main") == 1 and page.tags.count("h1") == 1, path
        assert "nav" in page.tags and "header" in page.tags and "footer" in page.tags
        ids = re.findall(r'\bid="([^"]+)"', text)
        assert len(ids) == len(set(ids)), f"{path}: duplicate ids"


def test_canonical_and_posthog_examples_are_valid(plan, minimal_plan):
    for each in (plan, minimal_plan):
        for event in each.events.values():
            validator = Draft202012Validator(
                event_schema(each, event), format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            validator.validate(examples.canonical_example(each, event))
            posthog = examples.posthog_example(each, event)
            assert set(posthog) - {"properties"} <= set(examples.POSTHOG_COLUMNS.values())
            validator.validate(_back_to_canonical(each, posthog))


def _back_to_canonical(plan, posthog):  # type: ignore[no-untyped-def]
    """Undo PostHog's shape the way the plan's envelope says, independently of examples.py."""
    properties = dict(posthog["properties"])
    top = {k: v for k, v in posthog.items() if k != "properties"}
    for field in plan.envelope:
        stored = field.posthog_name or field.name
        if field.placement == "top" and stored in properties:
            top[field.name] = properties.pop(stored)
    return {**top, "properties": properties}


def test_example_values_follow_constraints(plan):
    checker = Draft202012Validator.FORMAT_CHECKER
    for prop in plan.properties.values():
        value = examples.example_value(prop)
        Draft202012Validator(property_schema(prop), format_checker=checker).validate(value)


def test_snippets_use_generated_names_and_parse(plan):
    event = plan.events["purchase_completed"]
    python, typescript = snippets.snippets(plan, event)
    assert f"tracker.{python_identifier(event.name)}(" in python.code
    assert "ServerTracker(client=posthog_client" in python.code
    ast.parse(python.code)
    assert f"tracker.{camel_case(event.name)}({{" in typescript.code
    # purchase_completed is server-only: the browser tracker has no such method.
    assert 'createServerTracker(posthogNode, { source: "server" })' in typescript.code
    assert '  distinct_id: "' in typescript.code
    for ep in event.required:
        assert f"    {ep.name}=" in python.code and f"  {ep.name}: " in typescript.code
    browser = set(plan.browser_layers())
    web_only = next(e for e in plan.events.values() if set(e.layers) <= browser)
    assert [s.language for s in snippets.snippets(plan, web_only)] == ["typescript"]
    assert "createTracker(posthog)" in snippets.snippets(plan, web_only)[0].code
    worker = plan.events["processing_completed"]
    assert "WorkerTracker" in snippets.snippets(plan, worker)[0].code


def test_search_index_lists_every_event_and_property(plan):
    script = search_index.search_script(plan)
    prefix = f"// Generated by trackplan. Do not edit.\nwindow.{search_index.GLOBAL} = "
    assert script.startswith(prefix)
    entries = json.loads(script[len(prefix) :].rstrip().rstrip(";"))
    assert sum(e["kind"] in ("event", "property") for e in entries) == len(plan.events) + len(
        plan.properties
    )
    assert {e["name"] for e in entries if e["kind"] == "event"} == set(plan.events)


def test_funnel_diagram_nodes_never_overlap_and_edges_follow_transitions(plan):
    for columns in (4, 2):
        d = funnel.diagram(plan, columns)
        assert [n.state_id for n in d.nodes] == [s.id for s in plan.states]
        boxes = {(n.x, n.y) for n in d.nodes}
        assert len(boxes) == len(d.nodes)
        assert all(
            n.x + d.node_width <= d.width and n.y + d.node_height <= d.height for n in d.nodes
        )
        # every transition, plus the churn edge into S11 that no transition names
        assert len(d.edges) == len(plan.transitions) + 1
        assert sum(e.dashed for e in d.edges) == 1
        on_states = {m.event for m in plan.milestones.values()} & {s.event for s in plan.states}
        assert sum(bool(n.milestone) for n in d.nodes) == len(on_states) == 3


def test_home_shows_name_version_categories_and_milestones(plan, site):
    home = site[PurePosixPath("index.html")]
    assert f"{plan.name} tracking plan" in home and f"v{plan.version}" in home
    for category in plan.categories.values():
        count = len(plan.events_in(category.name))
        assert f'id="category-{category.name}"' in home
        assert f'aria-label="{count} events"' in home
    for milestone in plan.milestones.values():
        assert milestone.title in home
    for stage in plan.stages.values():
        assert stage.title in home
    assert home.count("<svg") == 2  # the laptop and the phone layout


def test_minimal_plan_golden(minimal_plan, golden):
    golden("minimal-docs", render_site(minimal_plan))


def test_property_page_says_where_meta_takes_it_from(site):
    price = site[PurePosixPath("properties/price.html")]
    assert "value of Purchase (purchase_completed)" in price
    currency = site[PurePosixPath("properties/currency.html")]
    assert "currency of InitiateCheckout (checkout_started)" in currency
    assert "Sent to Meta as" not in site[PurePosixPath("properties/job_id.html")]
