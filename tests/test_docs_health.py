"""`trackplan docs --audit`: reading audit reports, broken reports, and health on the pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.docs.health import AuditReportError, parse_report, read_report
from tests.conftest import PLAN_DIR

EVENTS = {"purchase_completed", "processing_completed", "data_export_requested", "landing_view"}
REPORT = {
    "rows_total": 1200,
    "rows_unparseable": 3,
    "summary": {"missing_required_property": 14, "never_seen": 1, "unknown_event": 5},
    "findings": [
        {
            "kind": "missing_required_property",
            "event": "purchase_completed",
            "property": "ltv_to_date",
            "count": 14,
            "examples": ["0194-a", "0194-b"],
        },
        {
            "kind": "never_seen",
            "event": "data_export_requested",
            "property": None,
            "count": 1,
            "examples": [],
        },
        {
            "kind": "unknown_event",
            "event": "job_finished",
            "property": None,
            "count": 5,
            "examples": ["x"],
        },
    ],
    "events": {
        "purchase_completed": {
            "count": 40,
            "first_seen": "2026-01-01T00:00:00Z",
            "last_seen": "2026-01-12T10:00:00Z",
            "rows_with_violations": 14,
        },
        "landing_view": {
            "count": 800,
            "first_seen": "2026-01-01T00:00:00Z",
            "last_seen": "2026-01-12T11:30:00Z",
            "rows_with_violations": 0,
        },
    },
}


def test_report_is_indexed_by_event():
    health = parse_report(REPORT, "r.json", EVENTS)
    purchase = health.for_event("purchase_completed")
    assert (purchase.count, purchase.rows_with_violations, purchase.status) == (
        40,
        14,
        "violations",
    )
    assert purchase.violation_share == "35.0%"
    assert [f.property for f in purchase.findings] == ["ltv_to_date"]
    assert health.for_event("landing_view").status == "healthy"
    assert health.for_event("data_export_requested").status == "never seen"
    assert health.for_event("processing_completed").count == 0  # absent from the report
    assert [f.event for f in health.unplanned] == ["job_finished"]
    assert sum(n for _, n in health.summary) == sum(f["count"] for f in REPORT["findings"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("events"), "missing `events`"),
        (lambda r: r.update(rows_total=-1), "rows_total: must be a non-negative integer"),
        (lambda r: r.update(findings={}), "findings: must be a list"),
        (lambda r: r["findings"][0].pop("kind"), "findings[0]: is missing `kind`"),
        (
            lambda r: r["findings"][1].update(count="7"),
            'findings[1].count: must be a non-negative integer, got "7"',
        ),
        (lambda r: r["events"]["landing_view"].update(count=True), "events.landing_view.count"),
        (lambda r: r["events"].update(landing_view=[]), "events.landing_view: must be an object"),
        (
            lambda r: r["events"]["landing_view"].update(last_seen=5),
            "last_seen: must be a string or null",
        ),
    ],
)
def test_broken_reports_name_the_field(change, message):
    report = json.loads(json.dumps(REPORT))
    change(report)
    with pytest.raises(AuditReportError, match=r"^r\.json: ") as caught:
        parse_report(report, "r.json", EVENTS)
    assert message in str(caught.value)


def test_unreadable_files_name_the_file_and_line(tmp_path):
    with pytest.raises(AuditReportError, match="no such audit report"):
        read_report(tmp_path / "missing.json", EVENTS)
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows_total": 1,\n  oops}\n')
    with pytest.raises(AuditReportError, match=r"bad\.json:2:3: not valid JSON"):
        read_report(bad, EVENTS)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(AuditReportError, match="cannot read the audit report"):
        read_report(binary, EVENTS)
    array = tmp_path / "array.json"
    array.write_text("[]")
    with pytest.raises(AuditReportError, match="must be a JSON object"):
        read_report(array, EVENTS)


def _docs(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["docs", "--plan", str(PLAN_DIR), *args])


def test_cli_renders_health_into_the_pages(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT))
    out = tmp_path / "site"
    result = _docs("--audit", str(report), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "with health from" in result.output
    page = (out / "events" / "purchase_completed.html").read_text()
    assert "Production health" in page and "14 (35.0%)" in page and "ltv_to_date" in page
    assert "2026-01-12 10:00 UTC" in page  # the report's 2026-01-12T10:00:00Z, for people
    home = (out / "index.html").read_text()
    assert "Events needing attention" in home and "job_finished" in home
    assert "report.json" in home and str(tmp_path) not in home  # no absolute path in the site
    again = _docs("--audit", str(report), "--out", str(out))
    assert "0 new, 0 changed" in again.output


def test_cli_without_audit_renders_the_plain_site(tmp_path):
    result = _docs("--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    assert "Production health" not in (tmp_path / "site" / "index.html").read_text()


@pytest.mark.parametrize("content", [None, "{not json", '{"rows_total": 1}'])
def test_cli_bad_report_exits_2_with_a_clear_message(tmp_path, content):
    report = tmp_path / "report.json"
    if content is not None:
        report.write_text(content)
    result = _docs("--audit", str(report), "--out", str(tmp_path / "site"))
    assert result.exit_code == 2
    assert str(report) in result.output and "Traceback" not in result.output
    assert not (tmp_path / "site").exists()


def test_cli_missing_plan_exits_2(tmp_path):
    result = CliRunner().invoke(
        cli, ["docs", "--plan", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_cli_out_is_a_file_exits_2(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _docs("--out", str(blocker / "site"))
    assert result.exit_code == 2 and "cannot write the site" in result.output
