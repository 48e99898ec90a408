"""`trackplan report` end to end: synth an export, report on it, open the page in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from tests.conftest import ARTIFACTS, PHONE, PLAN_DIR

sync_api = pytest.importorskip("playwright.sync_api", reason="install the dev extra")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("report")
    export, html = work / "events.parquet", work / "report.html"
    runner = CliRunner()
    made = runner.invoke(
        cli, ["synth", "--plan", str(PLAN_DIR), "--users", "4000", "--seed", "2", "-o", str(export)]
    )
    assert made.exit_code == 0, made.output
    done = runner.invoke(
        cli,
        [
            "report",
            "--plan",
            str(PLAN_DIR),
            str(export),
            "-o",
            str(html),
            "--impressions",
            "500000",
            "--runs",
            "500",
        ],
    )
    assert done.exit_code == 0, done.output
    assert str(html) in done.output
    return html


def test_report_renders_every_section_with_its_chart(report_html, page):
    page.goto(report_html.as_uri())
    sync_api.expect(page.locator("h1")).to_have_text("BlankLogo funnel report")
    for section in ("funnel", "milestones", "churn", "audit", "forecast"):
        block = page.locator(f"section#{section}")
        sync_api.expect(block).to_be_visible()
        assert block.locator("svg").count() == 1, section
        box = block.locator("svg").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, (section, box)
    funnel = page.locator("section#funnel table")
    sync_api.expect(funnel).to_contain_text("S9|S8")
    sync_api.expect(page.locator("section#forecast")).to_contain_text("500,000 impressions")
    # synth output is clean: the findings card says 0 and no category is below 100% health
    findings = page.locator(".cards li", has_text="findings").locator(".value")
    sync_api.expect(findings).to_have_text("0")
    health = page.locator("section#audit table").first.locator("tbody td:last-child")
    assert set(health.all_inner_texts()) <= {"100.0%", "no rows"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


def test_report_fits_a_phone_without_horizontal_scroll(report_html, page):
    page.set_viewport_size(PHONE)
    page.goto(report_html.as_uri())
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1


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
