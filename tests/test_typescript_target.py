"""The TypeScript target: goldens, `tsc --strict` (good code passes, plan violations do not
compile), and the compiled package sending through the real posthog-node and posthog-js (under
jsdom) to a local capture server. npm packages come from tests/node (`make test` installs them).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from capture_server import capture_server
from generated_packages import write_target

from compiler.plan import Plan
from compiler.targets import typescript as target

NODE_DIR = Path(__file__).resolve().parent / "node"
TSC = NODE_DIR / "node_modules" / ".bin" / "tsc"

GOOD = """
import type { PostHog as BrowserPostHog } from "posthog-js";
import { PostHog } from "posthog-node";
import { createServerTracker, createTracker, type WorkerTracker } from "./analytics/src/index.js";

declare const browser: BrowserPostHog;
const web = createTracker(browser, { validate: true, onViolation: (v) => console.warn(v.problems) });
web.landingView({ page_path: "/", device: "mobile", utm_source: null });
web.identify({ user_id: "usr_1" });
const worker: WorkerTracker = createServerTracker(new PostHog("phc_test"), { source: "worker" });
const id: string | undefined = worker.processingCompleted({ distinct_id: "usr_1", user_id: "usr_1", job_id: "job_9", mode: "inpaint", processing_time_ms: 1, success: true, credits_before: 1, credits_after: 0 });
export { id };
"""

# Each line marked `// E` must be a compile error.
BAD = """
import { PostHog } from "posthog-node";
import { createServerTracker, createTracker } from "./analytics/src/index.js";

const worker = createServerTracker(new PostHog("phc_test"), { source: "worker" });
worker.processingCompleted({ distinct_id: "usr_1", user_id: "usr_1", job_id: "job_9", mode: "inpaint" }); // E missing required
worker.processingCompleted({ distinct_id: "usr_1", user_id: "usr_1", job_id: "job_9", mode: "blur", processing_time_ms: 1, success: true, credits_before: 1, credits_after: 0 }); // E enum
worker.landingView({ page_path: "/", device: "mobile" }); // E not a worker event
createServerTracker(new PostHog("phc_test"), { source: "web" }); // E web is the browser layer
worker.processingCompleted({ user_id: "usr_1", job_id: "job_9", mode: "inpaint", processing_time_ms: 1, success: true, credits_before: 1, credits_after: 0 }); // E no distinct_id
createTracker({} as never).processingCompleted; // E not a web event
worker.jobTimeout({ distinct_id: "usr_1", job_id: "job_9", timeout_ms: 1, utm_sauce: "x" }); // E unknown key
worker.jobTimeout({ distinct_id: "usr_1", job_id: "job_9", timeout_ms: 1, ad_platform: "bing" }); // E envelope enum
"""

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "ES2022",
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "lib": ["ES2022", "DOM"],
        "types": [],
        "skipLibCheck": True,
    }
}


def test_minimal_plan_golden(minimal_plan: Plan, golden) -> None:  # type: ignore[no-untyped-def]
    golden("typescript_minimal", target.render(minimal_plan))


def test_layers_and_rules(plan: Plan) -> None:
    files = target.render(plan)
    trackers = files[target.PurePosixPath("typescript/src/trackers.ts")]
    worker = trackers.split("export interface WorkerTracker {")[1].split("\n}\n")[0]
    assert "processingCompleted(" in worker and "landingView(" not in worker
    package = json.loads(files[target.PurePosixPath("typescript/package.json")])
    assert package["name"] == "@blanklogo/analytics"


def _tsc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TSC), "--pretty", "false", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def workspace(plan: Plan) -> Iterator[Path]:
    """The rendered package plus checks, inside tests/node so the npm packages resolve."""
    if not TSC.is_file() or shutil.which("node") is None:
        pytest.fail("node and tests/node/node_modules are needed: run `make test` (npm ci)")
    with tempfile.TemporaryDirectory(prefix=".ws-", dir=NODE_DIR) as tmp:
        root = Path(tmp)
        shutil.copytree(write_target(plan, "typescript", root / "render"), root / "analytics")
        (root / "package.json").write_text('{"type": "module"}\n')
        (root / "good.ts").write_text(textwrap.dedent(GOOD))
        (root / "bad.ts").write_text(textwrap.dedent(BAD))
        for name in ("good", "bad"):
            config = {**TSCONFIG, "files": [f"{name}.ts"]}
            (root / f"tsconfig.{name}.json").write_text(json.dumps(config))
        yield root


@pytest.mark.slow
def test_tsc_strict_accepts_package_and_usage(workspace: Path) -> None:
    done = _tsc(workspace, "-p", "tsconfig.good.json")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_tsc_rejects_plan_violations(workspace: Path) -> None:
    done = _tsc(workspace, "-p", "tsconfig.bad.json")
    assert done.returncode != 0
    lines = {int(n) for n in re.findall(r"^bad\.ts\((\d+),\d+\): error", done.stdout, re.M)}
    marked = {n for n, line in enumerate(textwrap.dedent(BAD).splitlines(), 1) if "// E" in line}
    assert lines == marked, done.stdout
    assert '"blur"' in done.stdout and "landingView" in done.stdout


@pytest.fixture(scope="module")
def compiled(workspace: Path) -> Path:
    """`npm run build` of the package: tsc with its own (strict) tsconfig, emitting dist/."""
    done = _tsc(workspace / "analytics", "-p", "tsconfig.json")
    assert done.returncode == 0, done.stdout + done.stderr
    return workspace / "analytics" / "dist" / "index.js"


def _run(script: str, url: str, entry: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(NODE_DIR / "scripts" / script), url, str(entry)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_posthog_node_sends_plan_events(compiled: Path) -> None:
    with capture_server() as server:
        result = _run("send_node.mjs", server.url, compiled)
        events = server.events()
    assert set(server.paths()) == {"/batch/"}
    completed, identify, alias = events[:3]
    assert completed["event"] == "processing_completed" and completed["distinct_id"] == "usr_1"
    assert completed["uuid"] == result["eventId"]
    assert completed["timestamp"] == "2026-11-20T12:30:00.000Z"
    props = completed["properties"]
    assert props["job_id"] == "job_9" and props["mode"] == "inpaint" and props["success"] is True
    assert props["source"] == "worker" and props["environment"] == "staging"
    assert props["$session_id"] == "sess_42" and "session_id" not in props
    assert props["user_id"] == "usr_1" and props["$lib"] == "posthog-node"
    assert identify["event"] == "$identify" and identify["distinct_id"] == "usr_7"
    assert identify["properties"]["$anon_distinct_id"] == "anon_abc"
    assert identify["uuid"] == result["identifyId"]
    assert alias["event"] == "$create_alias" and alias["properties"]["alias"] == "usr_7"
    assert result["violation"]["name"] == "TrackingViolationError"
    assert result["violation"]["problems"] == ['mode: "blur" is not one of ["crop","inpaint"]']
    assert result["hasLandingView"] is False
    # A handler that returns lets the event through (typewriter's onViolation), once reported.
    assert result["reported"] == [
        ["processing_completed", ['mode: "blur" is not one of ["crop","inpaint"]']]
    ]
    assert [e["properties"]["mode"] for e in events[3:]] == ["blur"]


@pytest.mark.slow
def test_posthog_js_and_pixel_under_jsdom(compiled: Path) -> None:
    with capture_server() as server:
        result = _run("send_browser.mjs", server.url, compiled)
        events = {e["event"]: e for e in server.events()}
    assert set(events) == {"landing_view", "pricing_view", "checkout_started", "$identify"}
    assert result["fetches"] >= 4  # the script waited for posthog-js's own requests
    landing = events["landing_view"]
    assert landing["uuid"] == result["landingId"]
    props = landing["properties"]
    assert props["distinct_id"] == result["anonymousId"] and props["$session_id"]
    assert props["page_path"] == "/" and props["device"] == "desktop"
    assert props["source"] == "web" and props["environment"] == "dev"
    assert props["$lib"] == "web" and props["fbclid"] == "IwAR2xYz"
    identify = events["$identify"]["properties"]
    assert identify["distinct_id"] == "usr_7"
    assert identify["$anon_distinct_id"] == result["anonymousId"]
    # The Pixel got the same ids; pricing_view was sent while ads consent was off.
    assert result["pixel"] == [
        ["track", "PageView", {}, {"eventID": result["landingId"]}],
        [
            "track",
            "InitiateCheckout",
            {"value": 19, "currency": "USD"},
            {"eventID": result["checkoutId"]},
        ],
    ]
    assert events["checkout_started"]["uuid"] == result["checkoutId"]
    assert len(result["violation"]["problems"]) == 2 and result["hasProcessing"] is False
