"""The doc site's search index: what it holds and that every entry lands on an existing anchor.

Checked on the shipped plan and on the shopfast fixture (no Meta destination), against the
rendered site itself: each href's page is one of the site's files and its #fragment is an id
that page renders.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePosixPath

import pytest

from compiler.docs import search_index
from compiler.docs.site import render_site
from compiler.plan import Plan, load_plan
from tests.conftest import FIXTURES
from tests.test_docs_site import _parse

SHOPFAST = FIXTURES / "plans" / "shopfast"
# Words a reader types that only a plan's milestones, funnel, Meta mapping or descriptions hold.
TERMS = ("revenue", "payment", "churn", "aha", "Lead", "CompleteRegistration")


@pytest.fixture(scope="module")
def shopfast() -> Plan:
    result = load_plan(SHOPFAST)
    assert not result.errors, [d.format() for d in result.errors]
    return result.plan


def _index(plan: Plan) -> list[dict[str, str]]:
    """The entries as the browser sees them: parsed back from the generated script."""
    script = search_index.search_script(plan)
    body = script.split(f"window.{search_index.GLOBAL} = ", 1)[1].rstrip().rstrip(";")
    parsed: list[dict[str, str]] = json.loads(body)
    return parsed


def _matches(entry: dict[str, str], term: str) -> bool:
    # The same fields search.js looks in.
    haystack = " ".join(entry[k] for k in ("name", "text", "detail", "kind"))
    return term.lower() in haystack.lower()


def _assert_targets_exist(plan: Plan) -> None:
    site = render_site(plan)
    ids: dict[PurePosixPath, set[str]] = {}
    for entry in _index(plan):
        page, _, fragment = entry["href"].partition("#")
        path = PurePosixPath(page)
        assert path in site, f"{entry['kind']} {entry['name']}: no page {page}"
        if fragment:
            if path not in ids:
                ids[path] = set(_parse(site[path]).ids)
            assert fragment in ids[path], f"{entry['kind']} {entry['name']}: no #{fragment}"


def test_shipped_plan_index_kinds_and_targets(plan):
    found = _index(plan)
    kinds = Counter(e["kind"] for e in found)
    assert kinds["event"] == len(plan.events)
    assert kinds["property"] == len(plan.properties)
    assert kinds["milestone"] == len(plan.milestones) > 0
    assert kinds["funnel step"] == len(plan.states) > 0
    assert kinds["stage"] == len(plan.stages)
    assert kinds["category"] == len(plan.categories)
    assert plan.meta is not None
    assert kinds["meta event"] == len(plan.meta.mappings) > 0
    declared = [plan.forecast, plan.churn, plan.revenue, plan.hazard]
    assert kinds["section"] == sum(s is not None for s in declared)
    milestones = {e["href"] for e in found if e["kind"] == "milestone"}
    assert milestones == {f"glossary.html#milestone-{m}" for m in plan.milestones}
    steps = {e["name"]: e["href"] for e in found if e["kind"] == "funnel step"}
    assert steps == {s.name: f"funnel.html#state-{s.id}" for s in plan.states}
    _assert_targets_exist(plan)


@pytest.mark.parametrize("term", TERMS)
def test_each_reader_term_finds_something_on_the_shipped_plan(plan, term):
    hits = [e for e in _index(plan) if _matches(e, term)]
    assert hits, f"{term!r} finds nothing"


def test_meta_event_names_find_their_mapping(plan):
    assert plan.meta is not None
    found = _index(plan)
    for m in plan.meta.mappings:
        hits = [e for e in found if e["kind"] == "meta event" and e["name"] == m.meta_event]
        assert f"events/{m.event}.html#meta" in {e["href"] for e in hits}


def test_shopfast_index_has_no_meta_entries_and_every_target_exists(shopfast):
    assert shopfast.meta is None
    found = _index(shopfast)
    kinds = Counter(e["kind"] for e in found)
    assert "meta event" not in kinds
    assert kinds["event"] == len(shopfast.events)
    assert kinds["milestone"] == len(shopfast.milestones)
    assert kinds["funnel step"] == len(shopfast.states)
    assert not any("Meta " in e["detail"] for e in found if e["kind"] == "event")
    _assert_targets_exist(shopfast)


def test_a_plan_without_funnel_sections_has_no_section_entries(shopfast):
    bare = shopfast.__class__(
        **{
            **{f: getattr(shopfast, f) for f in shopfast.__dataclass_fields__},
            "forecast": None,
            "churn": None,
            "revenue": None,
            "hazard": None,
        }
    )
    found = _index(bare)
    assert not [e for e in found if e["kind"] == "section"]
    _assert_targets_exist(bare)
