"""`trackplan serve` as a command: usage errors exit 2 with one clear line, SIGTERM stops it
cleanly, its --store log is an export `trackplan audit` reads; the demo script and the pytest
fixture for app teams, each run as a user would."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from generated_packages import write_target

from compiler.cli.main import cli
from compiler.docs.examples import posthog_example
from compiler.plan import Plan
from tests.conftest import FIXTURES, PLAN_DIR, ROOT
from tests.serve_support import TRACKPLAN, get_json, post_json, serve_process


@pytest.mark.parametrize(
    "args, message",
    [
        (["--plan", str(FIXTURES / "plans" / "broken")], "error(s); run trackplan lint"),
        (["--plan", "/nonexistent/plan"], "/nonexistent/plan"),
        (["--forward", "posthog.example.com"], "give a PostHog host URL"),
        (["--port", "70000"], "70000"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    done = CliRunner().invoke(cli, ["serve", *args])
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output


def test_port_in_use_exits_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*TRACKPLAN, "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_store_is_an_export_the_audit_reads_and_sigterm_stops(plan: Plan, tmp_path: Path) -> None:
    store = tmp_path / "store"
    good = posthog_example(plan, plan.events["landing_view"])
    bad = {**good, "properties": {**good["properties"], "device": "fridge"}}
    with serve_process("--store", str(store)) as (url, process):
        assert post_json(url + "/batch/", {"api_key": "k", "batch": [good, bad]})[0] == 200
        assert get_json(url + "/trackplan/all") == {"total": 2, "good": 1, "bad": 1}
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert process.stderr is not None and "stopped" in process.stderr.read()
    done = CliRunner().invoke(
        cli, ["audit", "--plan", str(PLAN_DIR), str(store / "events.jsonl"), "--format", "json"]
    )
    assert done.exit_code == 1, done.output
    report = json.loads(done.output)
    assert report["rows_total"] == 2 and report["rows_unparseable"] == 0
    assert report["summary"]["enum_violation"] == 1


@pytest.mark.slow
def test_demo_sends_good_and_bad_through_the_tracker_and_raw(plan: Plan, tmp_path: Path) -> None:
    package = write_target(plan, "python", tmp_path)
    with serve_process() as (url, _):
        done = subprocess.run(
            [sys.executable, "-m", "compiler.serve.demo", "--url", url, "--package-dir", package],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        counts = get_json(url + "/trackplan/all")
    assert done.returncode == 0, done.stderr
    assert "via the generated" in done.stdout and "unknown_event" in done.stdout
    assert f"GET /trackplan/all -> {json.dumps(counts)}" in done.stdout
    assert counts["good"] >= 1 and counts["bad"] >= 2


APP_TESTS = """
from posthog import Posthog

def test_good(trackplan_server):
    Posthog("k", host=trackplan_server.url, sync_mode=True).capture(
        "landing_view", distinct_id="anon_1", properties=%(good)r)

def test_bad(trackplan_server):
    Posthog("k", host=trackplan_server.url, sync_mode=True).capture(
        "landing_view", distinct_id="anon_1", properties={"device": "fridge"})

def test_bad_on_purpose(trackplan_server):
    Posthog("k", host=trackplan_server.url, sync_mode=True).capture("nope", distinct_id="a")
    assert [e["event"] for e in trackplan_server.bad()] == ["nope"]
    trackplan_server.reset()
"""


@pytest.mark.slow
def test_pytest_fixture_fails_a_test_that_sent_a_bad_event(plan: Plan, tmp_path: Path) -> None:
    good = posthog_example(plan, plan.events["landing_view"])["properties"]
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["compiler.serve.pytest_plugin"]\n')
    (tmp_path / "test_app.py").write_text(textwrap.dedent(APP_TESTS % {"good": good}))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--trackplan-plan"]
        + [str(PLAN_DIR), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # test_bad itself passed; its teardown (the fixture) failed it
    assert "3 passed, 1 error" in done.stdout, done.stdout + done.stderr
    assert "ERROR at teardown of test_bad" in done.stdout
    assert "1 bad event(s) reached trackplan serve" in done.stdout
    assert "enum_violation device" in done.stdout


def test_serves_another_company_plan() -> None:
    from compiler.plan import load_plan

    shopfast = FIXTURES / "plans" / "shopfast"
    plan = load_plan(shopfast).plan
    events = [posthog_example(plan, e) for e in plan.events.values()]
    with serve_process("--plan", str(shopfast)) as (url, _):
        assert post_json(url + "/batch/", {"api_key": "k", "batch": events})[0] == 200
        counts = get_json(url + "/trackplan/all")
        bad = get_json(url + "/trackplan/bad")
    assert counts["total"] == len(plan.events) and counts["good"] > 0
    assert all(f["message"] for e in bad for f in e["findings"])
