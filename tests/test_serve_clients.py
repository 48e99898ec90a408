"""`trackplan serve` with the real JavaScript clients: posthog-js in headless Chromium (not jsdom)
on a page the test serves, calling the generated TypeScript tracker plus one raw
`posthog.capture` with a wrong property; posthog-node through the generated server tracker and
raw; and the live debugger page showing both as they arrive."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from generated_packages import NODE_DIR, TSC, tsc, write_target
from posthog import Posthog

from compiler.plan import Plan
from compiler.serve.testing import RunningServer, running
from tests.serve_support import events

POSTHOG_JS = NODE_DIR / "node_modules" / "posthog-js" / "dist" / "array.full.js"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>
<link rel="icon" href="data:,"><script src="/posthog.js"></script></head><body><h1>shop</h1>
<script type="module">
import * as analytics from "/analytics/index.js";
posthog.init("phc_web", { api_host: "%(host)s", autocapture: false, capture_pageview: false,
  capture_pageleave: false, disable_session_recording: true, disable_surveys: true,
  persistence: "memory", request_batching: false, opt_out_useragent_filter: true,
  bootstrap: { distinctID: "anon_chromium", isIdentifiedID: false } });
const web = analytics.createTracker(posthog, { validate: true, environment: "dev" });
window.landingId = web.landingView({ page_path: "/", device: "desktop" });
window.pricingId = web.pricingView({ page_path: "/pricing", device: "mobile" });
posthog.capture("landing_view", { source: "web", environment: "dev", page_path: "/",
  device: "fridge" });
window.sent = true;
</script></body></html>
"""

NODE = """
import { pathToFileURL } from "node:url";
import { PostHog } from "posthog-node";
const [host, entry] = process.argv.slice(2);
const analytics = await import(pathToFileURL(entry).href);
const client = new PostHog("phc_node", { host, flushAt: 2, flushInterval: 0 });
const server = analytics.createServerTracker(client, { source: "server", environment: "prod",
  validate: true });
server.jobCreated({ distinct_id: "usr_n", user_id: "usr_n", job_id: "job_n1", mode: "crop",
  credits_before: 4 });
client.capture({ distinctId: "usr_n", event: "job_created", properties: { source: "server",
  environment: "prod", user_id: "usr_n", job_id: "job_n2", mode: "crop", credits_before: "four" } });
await client.shutdown();
console.log("sent");
"""


@pytest.fixture(scope="module")
def compiled(plan: Plan) -> Iterator[Path]:
    """The generated TypeScript package, compiled by tsc (tests/node) into dist/."""
    if not TSC.is_file() or shutil.which("node") is None:
        pytest.fail("node and tests/node/node_modules are needed: run `make test` (npm ci)")
    with tempfile.TemporaryDirectory(prefix=".ws-serve-", dir=NODE_DIR) as tmp:
        root = Path(tmp)
        package = write_target(plan, "typescript", root / "render")
        done = tsc(package, "-p", "tsconfig.json")
        assert done.returncode == 0, done.stdout + done.stderr
        (root / "package.json").write_text('{"type": "module"}\n')
        (root / "send_node.mjs").write_text(NODE)
        yield package / "dist"


@pytest.fixture
def server(plan: Plan) -> Iterator[RunningServer]:
    with running(plan) as running_server:
        yield running_server


@contextmanager
def app_site(host: str, dist: Path, root: Path) -> Iterator[str]:
    """The app's page on its own origin (another port of 127.0.0.1: a secure context, and
    the same address space as the server, as a developer's machine has it)."""
    (root / "index.html").write_text(PAGE % {"host": host})
    shutil.copy(POSTHOG_JS, root / "posthog.js")
    shutil.copytree(dist, root / "analytics")
    handler = functools.partial(QuietHandler, directory=str(root))
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=site.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}"
    finally:
        site.shutdown()
        site.server_close()
        thread.join()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.slow
def test_posthog_js_in_chromium_good_tracker_bad_raw_capture(
    page: Any, server: RunningServer, compiled: Path, tmp_path: Path
) -> None:
    with app_site(server.url, compiled, tmp_path) as site:
        page.goto(site + "/")
        page.wait_for_function("window.sent === true")
        counts = server.wait_for(3)
    assert counts == {"total": 3, "good": 2, "bad": 1}
    good = {e["event"]: e for e in server.good(distinct_id="anon_chromium")}
    assert set(good) == {"landing_view", "pricing_view"}
    assert good["landing_view"]["uuid"] == page.evaluate("window.landingId")
    assert good["landing_view"]["properties"]["$lib"] == "web"
    [bad] = server.bad()
    assert bad["event"] == "landing_view" and bad["distinct_id"] == "anon_chromium"
    assert events(bad["findings"]) == {("enum_violation", "device")}
    assert bad["findings"][0]["message"].startswith("'fridge' not in [")


@pytest.mark.slow
def test_posthog_node_tracker_and_raw_capture(server: RunningServer, compiled: Path) -> None:
    script = compiled.parent.parent.parent / "send_node.mjs"
    done = subprocess.run(
        ["node", str(script), server.url, str(compiled / "index.js")],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert server.wait_for(2) == {"total": 2, "good": 1, "bad": 1}
    [good] = server.good()
    assert good["properties"]["job_id"] == "job_n1"
    assert good["properties"]["$lib"] == "posthog-node"
    [bad] = server.bad()
    assert events(bad["findings"]) == {("type_mismatch", "credits_before")}
    assert bad["findings"][0]["message"] == "expected integer, got string"


@pytest.mark.slow
def test_live_page_streams_events_with_findings_and_doc_links(
    page: Any, server: RunningServer
) -> None:
    page.goto(server.url + "/trackplan/ui")
    page.wait_for_function("document.getElementById('state').textContent === 'live'")
    client = Posthog("phc_test", host=server.url, sync_mode=True)
    client.capture("landing_view", distinct_id="anon_ui", properties={"device": "fridge"})
    client.capture("not_in_plan", distinct_id="anon_ui")
    page.wait_for_function("document.querySelectorAll('li.event').length === 2")
    assert page.locator("#total").text_content() == "2"
    assert page.locator("#bad").text_content() == "2"
    first = page.locator("li.event.bad", has_text="landing_view")
    assert "enum_violation device" in first.locator(".findings").text_content()
    assert "missing envelope field" in first.locator(".findings").text_content()
    link = first.locator("a.doc")
    assert link.get_attribute("href") == "/trackplan/docs/events/landing_view.html"
    unknown = page.locator("li.event.bad", has_text="not_in_plan")
    assert "is not in the plan" in unknown.text_content() and unknown.locator("a.doc").count() == 0
    page.fill("#filter", "not_in")
    assert page.locator("li.event:visible").count() == 1
    docs = page.request.get(server.url + "/trackplan/docs/events/landing_view.html")
    assert docs.status == 200 and "landing_view" in docs.text()
    assert json.loads(page.request.get(server.url + "/trackplan/all").text())["total"] == 2
