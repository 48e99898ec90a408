"""The doc site in a real headless Chromium (Debian's /usr/bin/chromium), opened from file://.

`make test` installs chromium through `make browser` when it is missing; playwright only drives
it and never downloads a browser. Screenshots land in tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from compiler.build import compare, write
from compiler.docs.funnel import NODE_W
from compiler.docs.site import render_site
from tests.conftest import ARTIFACTS, LAPTOP, PHONE, ROOT  # the browser fixtures live there

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra")

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def site_dir(plan, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("site")
    files = render_site(plan)
    write(out, files, compare(out, files, []))
    return out


def _url(site_dir: Path, relative: str) -> str:
    return (site_dir / relative).as_uri()


def test_every_event_has_a_page_linked_from_home(plan, site_dir, page):
    page.goto(_url(site_dir, "index.html"))
    hrefs = page.eval_on_selector_all(
        "main a[href^='events/']", "links => links.map(a => a.getAttribute('href'))"
    )
    linked = {h.removeprefix("events/").removesuffix(".html") for h in hrefs}
    assert linked == set(plan.events)
    for name in plan.events:
        page.goto(_url(site_dir, f"events/{name}.html"))
        assert page.locator("h1").inner_text() == name
        assert page.title().startswith(name)


def test_search_finds_processing_completed_and_opens_it(site_dir, page):
    page.goto(_url(site_dir, "index.html"))
    box = page.get_by_role("searchbox", name="Search events and properties")
    box.press_sequentially("processing")
    results = page.locator("#search-results")
    sync_api.expect(results).to_be_visible()
    # Other results may mention it in their descriptions; exactly one is named by it.
    named = page.locator("code", has_text=re.compile(r"^processing_completed$"))
    hit = results.get_by_role("link").filter(has=named)
    sync_api.expect(hit).to_have_count(1)
    sync_api.expect(page.locator("#search-status")).to_contain_text("results")
    hit.click()
    page.wait_for_url("**/events/processing_completed.html")
    assert page.locator("h1").inner_text() == "processing_completed"


def test_search_from_an_event_page_links_relative_to_the_root(site_dir, page):
    page.goto(_url(site_dir, "events/ad_click.html"))
    page.get_by_role("searchbox").press_sequentially("currency")
    page.locator("#search-results").get_by_role("link").first.click()
    page.wait_for_url("**/properties/currency.html")
    sync_api.expect(page.locator("h1")).to_have_text("currency")
    page.get_by_role("searchbox").press_sequentially("zzzz-nothing")
    sync_api.expect(page.locator("#search-results")).to_contain_text("No event or property matches")


@pytest.mark.parametrize(
    "term", ["revenue", "payment", "churn", "aha", "Lead", "CompleteRegistration"]
)
def test_search_finds_plan_words_and_each_result_opens_an_existing_anchor(site_dir, page, term):
    """Milestones, funnel steps, Meta event names and description words are searchable."""
    page.goto(_url(site_dir, "events/ad_click.html"))  # one level down: hrefs use the root
    page.get_by_role("searchbox").press_sequentially(term)
    links = page.locator("#search-results").get_by_role("link")
    sync_api.expect(links.first).to_be_visible()
    hrefs = links.evaluate_all("links => links.map(a => a.href)")
    assert hrefs, f"{term!r} finds nothing"
    for href in hrefs:  # every result's page exists and renders its anchor
        target, _, fragment = href.partition("#")
        path = Path(url2pathname(urlparse(target).path))
        assert path.is_file() and path.is_relative_to(site_dir), href
        assert not fragment or f'id="{fragment}"' in path.read_text(encoding="utf-8"), href
    page.goto(_url(site_dir, "index.html"))
    page.get_by_role("searchbox").press_sequentially(term)
    first = page.locator("#search-results").get_by_role("link").first
    expected = first.get_attribute("href")
    first.click()
    page.wait_for_url(f"**/{expected}")


def test_purchase_completed_shows_its_meta_mapping_and_properties(plan, site_dir, page):
    page.goto(_url(site_dir, "index.html"))
    monetization = page.locator("#category-monetization")
    monetization.get_by_role("link", name="purchase_completed", exact=True).click()
    page.wait_for_url("**/events/purchase_completed.html")
    meta = page.locator("#meta")
    sync_api.expect(meta.locator(".meta-event")).to_have_text("Purchase")
    sync_api.expect(meta).to_contain_text("price")
    table = page.get_by_role("table", name="Properties of purchase_completed")
    names = table.locator("tbody th").all_inner_texts()
    assert names == [ep.name for ep in plan.events["purchase_completed"].properties]
    sync_api.expect(table.locator("tbody tr").first).to_contain_text("required")
    sync_api.expect(page.locator("#snippet-python")).to_contain_text("tracker.purchase_completed(")
    sync_api.expect(page.locator("#snippet-typescript")).to_contain_text("purchaseCompleted({")
    sync_api.expect(page.locator("[data-copy='snippet-python']")).to_be_visible()
    page.locator("#schema summary").click()
    sync_api.expect(page.locator("#schema-json")).to_contain_text('"const": "purchase_completed"')


@pytest.mark.parametrize(
    "relative",
    [
        "index.html",
        "events/purchase_completed.html",
        "properties.html",
        "glossary.html",
        "meta.html",
        "funnel.html",
    ],
)
def test_phone_width_has_no_horizontal_scroll(site_dir, page, relative):
    page.set_viewport_size(PHONE)
    page.goto(_url(site_dir, relative))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{relative} is {overflow}px wider than a phone"


def test_funnel_switches_layout_with_the_width(site_dir, page):
    page.goto(_url(site_dir, "index.html"))
    sync_api.expect(page.locator("svg.funnel-c4")).to_be_visible()
    sync_api.expect(page.locator("svg.funnel-c2")).to_be_hidden()
    page.set_viewport_size(PHONE)
    sync_api.expect(page.locator("svg.funnel-c2")).to_be_visible()
    sync_api.expect(page.locator("svg.funnel-c4")).to_be_hidden()
    box = page.locator("svg.funnel-c2 .node rect").first.bounding_box()
    assert box is not None and box["width"] / NODE_W >= 0.7  # text keeps 70% of its size


@pytest.mark.parametrize(
    "relative",
    [
        "index.html",
        "events/purchase_completed.html",
        "properties/mode_selected.html",
        "properties.html",
        "meta.html",
        "glossary.html",
        "funnel.html",
    ],
)
@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_pages_pass_axe_accessibility_checks(site_dir, page, relative, size):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser` (npm ci in tests/a11y)")
    page.set_viewport_size(size)
    page.goto(_url(site_dir, relative))
    page.add_script_tag(path=str(AXE))
    page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")
    found = page.evaluate(
        """() => axe.run(document, {preload: false, runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]})
            .then(r => r.violations.map(v => v.id + ": " + v.nodes.length + " x "
                + v.nodes[0].target.join(" ") + " (" + v.help + ")"))"""
    )
    assert found == [], found


def test_copy_button_copies_the_snippet(site_dir, page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(_url(site_dir, "events/processing_completed.html"))
    button = page.locator("[data-copy='snippet-python']")
    button.click()
    sync_api.expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#snippet-python").inner_text()


def test_screenshots_of_home_and_an_event_page(site_dir, page):
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {
        "docs-home-laptop.png": ("index.html", LAPTOP),
        "docs-home-phone.png": ("index.html", PHONE),
        "docs-event-laptop.png": ("events/purchase_completed.html", LAPTOP),
        "docs-event-phone.png": ("events/purchase_completed.html", PHONE),
    }
    for name, (relative, size) in shots.items():
        page.set_viewport_size(size)
        page.goto(_url(site_dir, relative))
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        assert (ARTIFACTS / name).stat().st_size > 10_000
    # What the README shows (tests/screenshots/docs-home.png is a copy of this one).
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(_url(site_dir, "index.html"))
    page.screenshot(path=str(ARTIFACTS / "docs-home.png"))
