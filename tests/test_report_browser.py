"""`trackplan report` end to end in headless Chromium: synth an export of the shipped plan, report
on it, open the page at laptop and phone width; the minimal plan's report too."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.plan import load_plan
from tests.conftest import ARTIFACTS, FIXTURES, PHONE, PLAN_DIR, ROOT
from tests.report_exports import Person, write

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra")

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
MEASURED = ("funnel", "milestones", "revenue", "churn", "hazard")
MODELLED = ("levers", "forecast", "assumptions")


def _report(plan_dir: Path, export: Path, html: Path) -> Path:
    done = CliRunner().invoke(
        cli,
        ["report", "--plan", str(plan_dir), str(export), "-o", str(html), "--runs", "300"],
    )
    assert done.exit_code == 0, done.output
    assert str(html) in done.output and "Traceback" not in done.output
    return html


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("report")
    export = work / "events.parquet"
    made = CliRunner().invoke(
        cli, ["synth", "--plan", str(PLAN_DIR), "--users", "4000", "--seed", "2", "-o", str(export)]
    )
    assert made.exit_code == 0, made.output
    return _report(PLAN_DIR, export, work / "report.html")


@pytest.fixture(scope="module")
def minimal_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan_dir = FIXTURES / "plans" / "minimal"
    plan = load_plan(plan_dir).plan
    people = [Person(f"u{i}").did("job_created", i) for i in range(12)]
    for person in people[:9]:
        person.did("processing_completed", person.events[0][1] + 0.2)
    work = tmp_path_factory.mktemp("minimal-report")
    write(work / "events.jsonl", plan, people)
    return _report(plan_dir, work / "events.jsonl", work / "report.html")


def test_report_renders_every_section_with_its_charts(report_html, page):
    page.goto(report_html.as_uri())
    sync_api.expect(page.locator("h1")).to_have_text("BlankLogo funnel report")
    sync_api.expect(page.locator("dl.window")).to_contain_text("Last event (as of)")
    for section in MEASURED + MODELLED:
        block = page.locator(f"section#{section}")
        sync_api.expect(block).to_be_visible()
        assert block.locator("p.missing").count() == 0, block.inner_text()
    for section in ("levers", "funnel", "churn", "forecast"):
        charts = page.locator(f"section#{section} figure.chart svg")
        assert charts.count() >= 1, section
        box = charts.first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, (section, box)
    sync_api.expect(page.locator("section#funnel table").first).to_contain_text(
        "Landed → ClickedCTA"
    )
    sync_api.expect(page.locator("section#levers")).to_contain_text("a tie of")
    sync_api.expect(page.locator("section#assumptions")).to_contain_text("Ad impressions")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


@pytest.mark.parametrize("which", ["report_html", "minimal_html"])
def test_report_fits_a_390_pixel_phone(which, request, page):
    html: Path = request.getfixturevalue(which)
    page.set_viewport_size(PHONE)
    page.goto(html.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("document.body.scrollWidth") <= PHONE["width"]
    # every chart and table container fits the screen; wide tables scroll inside theirs
    for selector in ("figure.chart svg", "div.scroll", "section"):
        for box in page.locator(selector).evaluate_all(
            "all => all.map(e => e.getBoundingClientRect().right)"
        ):
            assert box <= PHONE["width"], (selector, box)
    sizes = page.locator("td, li, p").evaluate_all(
        "all => all.map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert min(sizes) >= 13  # readable without zooming
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"report-phone-{which}.png"), full_page=True)
    if which == "report_html":  # what the README shows: the top of the page on a phone
        # tests/screenshots/report-phone.png is a copy, refreshed by hand when the look changes:
        # a test run never rewrites a committed file.
        page.screenshot(path=str(ARTIFACTS / "report-phone.png"))


def test_minimal_report_leaves_out_what_the_plan_cannot_support(minimal_html, page):
    page.goto(minimal_html.as_uri())
    for section in ("milestones", "revenue", "churn", "hazard"):
        block = page.locator(f"section#{section}")
        sync_api.expect(block.locator("p.missing")).to_have_count(1)
        assert block.locator("table").count() == 0
    sync_api.expect(page.locator("section#funnel")).to_contain_text("Created → Completed")


@pytest.mark.parametrize("size", [PHONE, {"width": 1366, "height": 900}], ids=["phone", "laptop"])
def test_report_passes_axe_accessibility_checks(report_html, page, size):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser` (npm ci in tests/a11y)")
    page.set_viewport_size(size)
    page.goto(report_html.as_uri())
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """() => axe.run(document, {preload: false, runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]})
            .then(r => r.violations.map(v => v.id + ": " + v.nodes.length + " x "
                + v.nodes[0].target.join(" ") + " (" + v.help + ")"))"""
    )
    assert found == [], found


def test_report_on_a_missing_export_exits_2(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--plan",
            str(PLAN_DIR),
            str(tmp_path / "nope.jsonl"),
            "-o",
            str(tmp_path / "r.html"),
        ],
    )
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()
