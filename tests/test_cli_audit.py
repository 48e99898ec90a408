"""`trackplan audit` on the command line: formats, -o, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from compiler.cli.main import cli
from tests.conftest import FIXTURES, PLAN_DIR
from tests.export_rows import write_posthog_jsonl

SAMPLE = str(FIXTURES / "exports" / "sample_export.jsonl")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["audit", "--plan", str(PLAN_DIR), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_json_report_shape(tmp_path: Path) -> None:
    code, out, _ = run(SAMPLE, "--format", "json", "-o", str(tmp_path / "report.json"))
    assert code == 1 and out == ""
    document = json.loads((tmp_path / "report.json").read_text())
    assert {"rows_total", "rows_unparseable", "summary", "findings", "events"} <= set(document)
    assert set(document["findings"][0]) >= {"kind", "event", "property", "count", "examples"}
    assert document["files"][0]["status"] == "read fully"


def test_text_report_and_exit_code(tmp_path: Path) -> None:
    code, out, _ = run(SAMPLE)
    assert code == 1
    assert "23 rows read, 1 unparseable" in out and "wrong_source" in out


def test_clean_export_exits_zero(plan, tmp_path: Path) -> None:
    path = write_posthog_jsonl(tmp_path / "clean.jsonl", plan, 200)
    code, out, _ = run(str(path), "--format", "json")
    assert code == 0
    assert set(json.loads(out)["summary"]) == {"never_seen"}


def test_fail_on_levels() -> None:
    assert run(SAMPLE, "--fail-on", "none")[0] == 0
    assert run(SAMPLE, "--fail-on", "error")[0] == 1


def test_fail_on_info_counts_never_seen(plan, tmp_path: Path) -> None:
    path = write_posthog_jsonl(tmp_path / "clean.jsonl", plan, 200)
    assert run(str(path), "--fail-on", "warning")[0] == 0
    assert run(str(path), "--fail-on", "info")[0] == 1


def test_junit_has_a_failure_per_finding() -> None:
    code, out, _ = run(SAMPLE, "--format", "junit")
    suite = ET.fromstring(out)
    failures = suite.findall(".//failure")
    assert code == 1 and suite.get("name") == "trackplan audit"
    assert {f.get("type") for f in failures} >= {"wrong_source", "unparseable_row", "never_seen"}


def test_html_report_lists_categories_and_worst_events(tmp_path: Path) -> None:
    code, _, _ = run(SAMPLE, "--format", "html", "-o", str(tmp_path / "r.html"))
    html = (tmp_path / "r.html").read_text()
    assert code == 1 and 'id="categories"' in html and "Core Value / Product" in html
    events = html[html.index('id="events"') :]
    assert events.index("job_completed") < events.index("$pageview")  # worst first


def test_engine_option_gives_the_same_json() -> None:
    first = json.loads(run(SAMPLE, "--format", "json")[1])
    second = json.loads(run(SAMPLE, "--format", "json", "--engine", "jsonschema")[1])
    first.pop("engine"), second.pop("engine")
    assert first == second


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run(SAMPLE, str(tmp_path / "nope.jsonl"))
    assert code == 2 and "nope.jsonl: no such file or directory" in err


def test_no_input_is_exit_2() -> None:
    code, _, err = run()
    assert code == 2 and "no input" in err


def test_unwritable_output_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run(SAMPLE, "-o", str(tmp_path / "no" / "dir" / "r.json"))
    assert code == 2 and "cannot write" in err


def test_console_script_reads_stdin() -> None:
    data = Path(SAMPLE).read_bytes()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "compiler",
            "audit",
            "--plan",
            str(PLAN_DIR),
            "-",
            "--format",
            "json",
        ],
        input=data,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["rows_total"] == 23


def test_emit_sql_says_what_it_leaves_out() -> None:
    code, out, _ = run("--emit-sql", "clickhouse")
    assert code == 0 and out.startswith("-- trackplan audit")
    assert "sequence_violation" in out.splitlines()[1]


def test_bad_memory_limit_is_exit_2() -> None:
    code, _, err = run(SAMPLE, "--memory-limit", "lots; drop table x")
    assert code == 2 and "--memory-limit" in err


CHROMIUM = "/usr/bin/chromium"


def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    import shutil

    import pytest

    if not shutil.which(CHROMIUM):
        pytest.fail("chromium is not installed: run `make browser` (Debian package chromium)")
    report = tmp_path / "r.html"
    run(SAMPLE, "--format", "html", "-o", str(report))
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert dom.count("<tr") >= 30  # header rows plus categories, events, findings, files
    assert "wrong_source" in dom and "Health by category" in dom


def test_unreadable_file_is_exit_2_not_an_empty_clean_audit(tmp_path: Path) -> None:
    broken = tmp_path / "part.parquet"
    broken.write_bytes(b"PAR1 this is not a parquet file")
    code, _, err = run(str(broken))
    assert code == 2 and "part.parquet: could not read as posthog-parquet" in err


def test_json_findings_say_the_rule_and_the_values(tmp_path: Path) -> None:
    code, out, _ = run(SAMPLE, "--format", "json")
    findings = {(f["kind"], f["event"], f["property"]): f for f in json.loads(out)["findings"]}
    coupon = findings[("undocumented_property", "upload_view", "coupon")]
    assert coupon["rule"] == "undocumented property 'coupon'"
    assert coupon["samples"] == [
        {"value": "X", "count": 1, "rule": "undocumented property 'coupon'"}
    ]
    timing = findings[("constraint_violation", "processing_completed", "processing_time_ms")]
    assert timing["rule"] == "-5 < minimum 0"
    assert findings[("unknown_event", "signup_cta_clicked", None)]["suggestion"] == "cta_click"


def test_text_and_html_headlines_leave_out_info(tmp_path: Path) -> None:
    out = run(SAMPLE)[1]
    assert "Errors found. 17 errors (17 rows), 2 warnings (2 rows); 45 planned events" in out
    run(SAMPLE, "--format", "html", "-o", str(tmp_path / "r.html"), "--docs-url", "docs")
    html = (tmp_path / "r.html").read_text()
    assert "64 findings" not in html and "17 errors (17 rows)" in html
    assert 'href="docs/events/processing_completed.html"' in html
