"""What tests/test_any_plan.py shares: running the real CLI, reading HTML as a reader does,
checking an output never speaks of the shipped plan, and the usage code a ShopFast app team
writes against its generated packages (with the mistakes the type checkers must reject)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

_SCRIPT = Path(sys.executable).with_name("trackplan")
TRACKPLAN = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "compiler"]


# What must never leak from the shipped plan into another company's outputs.
BLANKLOGO_NAMES = (
    "blanklogo",
    "ad_click",
    "landing_view",
    "cta_click",
    "signup_submit",
    "login_success",
    "credits_granted",
    "upload_completed",
    "processing_completed",
    "processing_failed",
    "download_clicked",
    "purchase_completed",
    "return_session",
    "subscription_canceled",
    "watermark",
)
S_IDS = re.compile(r"\bS(?:[0-9]|1[01])\b")


def trackplan(*args: str | Path, cwd: Path, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """Run `trackplan ARGS` in `cwd`; fail with its output unless it exits `expect`."""
    env = {k: v for k, v in os.environ.items() if k != "TRACKPLAN_PLAN"}
    argv = [*TRACKPLAN, *(str(a) for a in args)]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=1200, env=env)
    shown = " ".join(str(a) for a in args)
    assert (
        "Traceback (most recent call last)" not in done.stderr
    ), f"`trackplan {shown}` crashed:\n{done.stderr[-4000:]}"
    assert done.returncode == expect, (
        f"`trackplan {shown}` exited {done.returncode}, expected {expect}\n"
        f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )
    return done


class _Text(HTMLParser):
    """The text a reader sees: every text node except inside <style> and <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def assert_about_shopfast(
    text: str, where: str, *, ids: bool = True, names: tuple[str, ...] = BLANKLOGO_NAMES
) -> None:
    """No BlankLogo name (its events too, unless `names` says otherwise) and no S0..S11 ids."""
    lowered = text.lower()
    leaked = [name for name in names if name in lowered]
    assert not leaked, f"{where} mentions the shipped plan's {leaked}"
    if ids:
        found = sorted(set(S_IDS.findall(text)))
        assert not found, f"{where} names states {found}, which this plan does not have"


# Usage a ShopFast app team writes (must type-check) and mistakes (each `# E` / `// E` line must
# be an error): ShopFast's own field names (customer_id), its layers (mobile, server), its enums.
PY_GOOD = """
from posthog import Posthog
from shopfast_analytics import MobileTracker, ServerTracker, Tracker

client = Posthog("phc_test", host="http://127.0.0.1:9")
server: ServerTracker = Tracker(client=client, source="server")
server.order_placed(distinct_id="cus_8f3k2m9q1z", customer_id="cus_8f3k2m9q1z", order_id="ord_20250117", order_total=42.5, currency="EUR", item_count=3, payment_method="klarna", purchase_type="one_off", shipping_speed="express")
mobile: MobileTracker = Tracker(client=client, source="mobile")
mobile.app_opened(distinct_id="dev_1", launch_type="push", os="ios", deep_link=None)
"""
PY_BAD = """
from posthog import Posthog
from shopfast_analytics import Tracker

client = Posthog("phc_test", host="http://127.0.0.1:9")
server = Tracker(client=client, source="server")
mobile = Tracker(client=client, source="mobile")
server.order_placed(distinct_id="c", customer_id="cus_8f3k2m9q1z", order_id="ord_20250117", order_total=42.5, currency="USD", item_count=3, payment_method="klarna", purchase_type="one_off", shipping_speed="express")  # E enum
server.order_placed(distinct_id="c", customer_id="cus_8f3k2m9q1z", order_id="ord_20250117")  # E missing required
server.app_opened(distinct_id="dev_1", launch_type="push", os="ios")  # E not a server event
mobile.order_placed  # E not a mobile event
Tracker(client=client, source="web")  # E no web layer
"""


TS_GOOD = """
import type { PostHog as BrowserPostHog } from "posthog-js";
import { PostHog } from "posthog-node";
import { createServerTracker, createTracker, type MobileTracker, type ServerTracker } from "./analytics/src/index.js";

declare const browser: BrowserPostHog;
const app: MobileTracker = createTracker(browser, { validate: true });
app.appOpened({ launch_type: "push", os: "ios", deep_link: null });
app.identify({ user_id: "cus_8f3k2m9q1z" });
const server: ServerTracker = createServerTracker(new PostHog("phc_test"), { source: "server" });
const id: string | undefined = server.orderPlaced({ distinct_id: "cus_8f3k2m9q1z", customer_id: "cus_8f3k2m9q1z", order_id: "ord_20250117", order_total: 42.5, currency: "EUR", item_count: 3, payment_method: "klarna", purchase_type: "one_off", shipping_speed: "express" });
export { id };
"""
TS_BAD = """
import type { PostHog as BrowserPostHog } from "posthog-js";
import { PostHog } from "posthog-node";
import { createServerTracker, createTracker } from "./analytics/src/index.js";

declare const browser: BrowserPostHog;
const app = createTracker(browser);
const server = createServerTracker(new PostHog("phc_test"), { source: "server" });
server.orderPlaced({ distinct_id: "c", customer_id: "cus_8f3k2m9q1z", order_id: "ord_20250117", order_total: 42.5, currency: "USD", item_count: 3, payment_method: "klarna", purchase_type: "one_off", shipping_speed: "express" }); // E enum
server.orderPlaced({ distinct_id: "c", customer_id: "cus_8f3k2m9q1z", order_id: "ord_20250117" }); // E missing required
server.appOpened({ distinct_id: "dev_1", launch_type: "push", os: "ios" }); // E not a server event
app.orderPlaced; // E not a mobile event
createServerTracker(new PostHog("phc_test"), { source: "mobile" }); // E mobile is the browser layer
app.appOpened({ launch_type: "push", os: "ios", utm_sauce: "x" }); // E unknown key
"""
