"""`trackplan serve` inside a test process: the server on a free port of 127.0.0.1, run in a
background thread with its own event loop, and a small synchronous client for its inspection
API. `compiler.serve.pytest_plugin` builds the app teams' fixture on it.

    with running(load_plan("tracking_plan").plan) as server:
        posthog = Posthog("phc_test", host=server.url, sync_mode=True)
        ...
        assert server.bad() == []
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from compiler.plan.model import Plan
from compiler.serve.app import SERVER, ServeConfig, Server, make_app


@dataclass
class RunningServer:
    url: str
    server: Server
    loop: asyncio.AbstractEventLoop = field(repr=False)

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def all(self) -> dict[str, int]:
        return dict(self._get("/trackplan/all"))

    def _query(self, kind: str, event: str | None, distinct_id: str | None) -> list[Any]:
        params = {k: v for k, v in (("event", event), ("distinct_id", distinct_id)) if v}
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return list(self._get(f"/trackplan/{kind}{query}"))

    def good(self, event: str | None = None, distinct_id: str | None = None) -> list[Any]:
        return self._query("good", event, distinct_id)

    def bad(self, event: str | None = None, distinct_id: str | None = None) -> list[Any]:
        return self._query("bad", event, distinct_id)

    def reset(self) -> dict[str, int]:
        request = urllib.request.Request(self.url + "/trackplan/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))

    def forward(self) -> dict[str, Any]:
        return dict(self._get("/trackplan/forward"))

    def wait_for(self, total: int, timeout: float = 15.0) -> dict[str, int]:
        """The counts once `total` events have arrived (SDKs that send in the background)."""
        deadline = time.monotonic() + timeout
        counts = self.all()
        while counts["total"] < total and time.monotonic() < deadline:
            time.sleep(0.05)
            counts = self.all()
        return counts


@contextmanager
def running(
    plan: Plan, config: ServeConfig | None = None, port: int = 0
) -> Iterator[RunningServer]:
    """Serve `plan` (with `config`'s options) for the duration of the block."""
    from aiohttp import web

    config = replace(config, plan=plan) if config is not None else ServeConfig(plan)
    ready: dict[str, Any] = {}
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        app = make_app(config)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", port)
            await site.start()
            ready["server"], ready["port"] = app[SERVER], runner.addresses[0][1]
        except BaseException as exc:
            ready["error"] = exc
            await runner.cleanup()
            raise
        finally:
            started.set()
        await stop.wait()
        await runner.cleanup()

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # noqa: BLE001 - reported to the caller through `ready`
            ready.setdefault("error", exc)
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="trackplan-serve", daemon=True)
    thread.start()
    started.wait(60)
    if "error" in ready:
        thread.join(10)
        raise ready["error"]
    try:
        yield RunningServer(f"http://127.0.0.1:{ready['port']}", ready["server"], loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
