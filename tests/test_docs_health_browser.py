"""Production health on the doc site in headless Chromium at a phone's size (390 x 844): the
event page's persons, daily-volume sparkline and missing-value table, the home funnel's observed
rates, nothing wider than the screen, and axe's checks on both pages. One site per module."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.templating import percent
from tests.conftest import ARTIFACTS, PHONE, PLAN_DIR, ROOT
from tests.models_support import synth_export

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra")

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("health-site")
    export = synth_export(PLAN_DIR, tmp / "export.parquet", users=80, days=14)
    out = tmp / "site"
    built = CliRunner().invoke(
        cli, ["docs", "--plan", str(PLAN_DIR), "--export", str(export), "--out", str(out)]
    )
    assert built.exit_code == 0, built.output
    rates = CliRunner().invoke(
        cli, ["rates", "--plan", str(PLAN_DIR), "--format", "json", str(export)]
    )
    assert rates.exit_code == 0, rates.output
    return {"dir": out, "rates": json.loads(rates.output)["transitions"]}


def _open(page: Any, site: dict[str, Any], relative: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto((Path(site["dir"]) / relative).as_uri())


def _fits(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= PHONE["width"], f"the page is {overflow}px wide on a 390px phone"


def _busiest_event(site: dict[str, Any]) -> str:
    """The event page with the most rows (the one whose sparkline has the highest peak)."""
    best, peak = "", -1
    for path in sorted((Path(site["dir"]) / "events").glob("*.html")):
        text = path.read_text()
        found = re.search(r'aria-label="Rows per day [^"]*, most ([\d,]+)"', text)
        if "null-rates" not in text or not found:
            continue
        most = int(found.group(1).replace(",", ""))
        if most > peak:
            best, peak = path.stem, most
    assert best, "no event page has a sparkline and a missing-value table"
    return best


def test_event_health_on_a_phone(site, page):
    name = _busiest_event(site)
    _open(page, site, f"events/{name}.html")
    health = page.locator("#health")
    health.scroll_into_view_if_needed()
    sync_api.expect(health).to_be_visible()
    persons = health.locator("dd.persons")
    sync_api.expect(persons).to_be_visible()
    assert int(persons.inner_text().replace(",", "")) > 0
    spark = health.get_by_role("img", name="Rows per day")
    sync_api.expect(spark).to_be_visible()
    box = spark.bounding_box()
    assert box and box["width"] > 100 and box["x"] + box["width"] <= PHONE["width"]
    label = spark.get_attribute("aria-label") or ""
    assert "days" in label and "fewest" in label and "most" in label
    table = health.get_by_role("table", name="Missing values per property")
    sync_api.expect(table).to_be_visible()
    # The missing-value table fits the phone without scrolling sideways inside its region.
    region = health.get_by_role("region", name="Missing values")
    assert region.evaluate("r => r.scrollWidth <= r.clientWidth")
    cells = table.locator("tbody td.num").all_inner_texts()
    assert cells and all(c.endswith("%") for c in cells)
    _fits(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs-health-phone.png"), full_page=True)


def test_home_funnel_shows_observed_rates_on_a_phone(site, page):
    _open(page, site, "index.html")
    table = page.get_by_role("table", name="Observed step rates")
    table.scroll_into_view_if_needed()
    sync_api.expect(table).to_be_visible()
    observed = table.locator("td.observed .rate").all_inner_texts()
    rates = site["rates"]
    expected = [
        percent(r["numerator"] / r["denominator"]) if r["denominator"] else "–"
        for r in rates.values()
    ]
    assert observed == expected and len(observed) == len(rates) > 3
    persons = table.locator("td.observed .muted").all_inner_texts()
    assert persons == [f"{r['numerator']:,} / {r['denominator']:,}" for r in rates.values()]
    region = page.get_by_role("region", name="Observed step rates")
    assert region.evaluate("r => r.scrollWidth <= r.clientWidth")  # no sideways scrolling
    sync_api.expect(page.locator("strong.persons")).to_have_text("80")
    _fits(page)


@pytest.mark.parametrize("which", ["home", "event"])
def test_health_sections_pass_axe(site, page, which):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser` (npm ci in tests/a11y)")
    relative = "index.html" if which == "home" else f"events/{_busiest_event(site)}.html"
    _open(page, site, relative)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """() => axe.run(document, {preload: false, runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]})
            .then(r => r.violations.map(v => v.id + ": " + v.nodes.length + " x "
                + v.nodes[0].target.join(" ") + " (" + v.help + ")"))"""
    )
    assert found == [], found
