"""The Python target's output: golden files, black, `mypy --strict` (good code passes, plan
violations fail to type-check) and `pip install`-ability."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import black
import pytest
from generated_packages import rendered, write_target

from compiler.plan import Plan
from compiler.targets import python as target

GOOD = """
from datetime import datetime, timezone
from posthog import Posthog
from blanklogo_analytics import Tracker, WorkerTracker, meta

client = Posthog("phc_test", disabled=True)
worker = Tracker(client=client, source="worker", on_violation="drop")
assert isinstance(worker, WorkerTracker)
event_id: str | None = worker.processing_completed(
    distinct_id="usr_1", user_id="usr_1", job_id="job_9", mode="inpaint",
    processing_time_ms=1200, success=True, credits_before=3, credits_after=2,
    timestamp=datetime.now(timezone.utc),
)
web = Tracker(client=client, source="web")
web.landing_view(distinct_id="anon_1", page_path="/", device="mobile", utm_source=None)
web.identify(user_id="usr_1", anonymous_id="anon_1")
server_event = meta.capi_event("purchase_completed", {"price": 9.0}, event_id=event_id)
"""

# Each line marked `# E` must be a mypy error.
BAD = """
from posthog import Posthog
from blanklogo_analytics import Tracker

client = Posthog("phc_test", disabled=True)
worker = Tracker(client=client, source="worker")
worker.processing_completed(  # E  missing required arguments
    distinct_id="usr_1", user_id="usr_1", job_id="job_9", mode="inpaint",
)
worker.processing_completed(
    distinct_id="usr_1", user_id="usr_1", job_id="job_9", mode="blur",  # E  not in the enum
    processing_time_ms=1200, success=True, credits_before=3, credits_after=2,
)
worker.landing_view(distinct_id="anon_1", page_path="/", device="mobile")  # E  not a worker event
Tracker(client=client, source="mobile")  # E  not a layer
worker.job_timeout(distinct_id="usr_1", job_id="job_9", timeout_ms=1, utm_sauce="x")  # E  unknown
worker.job_timeout(distinct_id="usr_1", job_id="job_9", timeout_ms=1, ad_platform="bing")  # E
worker.processing_completed(  # E  positional call
    "usr_1", distinct_id="usr_1", user_id="usr_1", job_id="job_9", mode="inpaint",
    processing_time_ms=1200, success=True, credits_before=3, credits_after=2,
)
"""


def test_minimal_plan_golden(minimal_plan: Plan, golden) -> None:  # type: ignore[no-untyped-def]
    golden("python_minimal", target.render(minimal_plan))


def test_render_is_deterministic_and_black_clean(minimal_plan: Plan) -> None:
    first, second = target.render(minimal_plan), target.render(minimal_plan)
    assert first == second
    mode = black.Mode(line_length=100, target_versions={black.TargetVersion.PY311})
    for path, text in first.items():
        if path.suffix == ".py":
            assert black.format_str(text, mode=mode) == text, path
    assert not any(re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", t) for t in first.values())


def test_worker_tracker_has_no_web_events(plan: Plan) -> None:
    trackers = rendered(plan, "python")[
        target.PurePosixPath("python/blanklogo_analytics/trackers.py")
    ]
    worker = trackers.split("class WorkerTracker(")[1].split("):")[0]
    assert "ProcessingCompletedEmitter" in worker and "LandingViewEmitter" not in worker


def _mypy(cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(cwd / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            *files,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_mypy_strict_accepts_package_and_rejects_violations(plan: Plan, tmp_path: Path) -> None:
    root = write_target(plan, "python", tmp_path)
    (root / "good.py").write_text(textwrap.dedent(GOOD))
    (root / "bad.py").write_text(textwrap.dedent(BAD))
    ok = _mypy(root, "blanklogo_analytics", "good.py")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    failed = _mypy(root, "bad.py")
    assert failed.returncode == 1, failed.stdout
    error_lines = {int(m) for m in re.findall(r"^bad\.py:(\d+): error", failed.stdout, re.M)}
    marked = {n for n, line in enumerate(textwrap.dedent(BAD).splitlines(), 1) if "# E" in line}
    assert error_lines == marked, failed.stdout
    assert 'Argument "mode"' in failed.stdout and "landing_view" in failed.stdout


@pytest.mark.slow
def test_package_is_pip_installable(minimal_plan: Plan, tmp_path: Path) -> None:
    source = write_target(minimal_plan, "python", tmp_path / "src")
    shutil.copytree(source, tmp_path / "copy")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(tmp_path / "site"),
            str(tmp_path / "copy"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    installed = tmp_path / "site" / "blanklogo_analytics"
    assert (installed / "py.typed").is_file() and (installed / "models.py").is_file()
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import blanklogo_analytics as b; print(b.PLAN_NAME, sorted(b.LAYER_EVENTS))",
        ],
        cwd=tmp_path / "site",
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "Mini ['server', 'web']", probe.stderr
