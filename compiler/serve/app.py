"""The aiohttp application: PostHog's capture routes, and the inspection API under /trackplan/.

Capture (`/e/`, `/i/v0/e/`, `/batch/`, `/capture/`, `/track/`) answers 200 as PostHog does
(`{"status": 1}`, `{"status": "Ok"}` for `/batch/`) once every event of the request is judged,
stored and (in proxy mode) on disk. `/decide/` and `/flags/` answer with no flags, the remote
config is empty and session recordings are read and dropped, so posthog-js starts cleanly.
Validation runs on the event loop, one request at a time: counts are exact without locks.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from aiohttp import web

from compiler.plan.model import Plan
from compiler.serve.decode import Limits, Refused, decode
from compiler.serve.forward import Forwarder
from compiler.serve.store import Record, Store, dumps
from compiler.serve.validate import LiveValidator
from compiler.templating import environment

CAPTURE = ("/e", "/i/v0/e", "/batch", "/capture", "/track")
NO_FLAGS = {
    "flags": {},
    "featureFlags": {},
    "featureFlagPayloads": {},
    "errorsWhileComputingFlags": False,
    "sessionRecording": False,
    "supportedCompression": ["gzip", "gzip-js"],
    "config": {"enable_collect_everything": False},
    "toolbarParams": {},
    "siteApps": [],
    "surveys": False,
    "heatmaps": False,
}
RECENT = 200  # records the debugger page gets when it opens


@dataclass
class ServeConfig:
    plan: Plan
    limits: Limits = field(default_factory=Limits)
    keep: int = 100_000
    store_dir: Path | None = None
    strict_system: bool = False
    fail_on: str = "error"
    validate: bool = True
    docs_url: str | None = None
    forward: str | None = None
    forward_bad: bool = False
    spool: Path = Path(".trackplan/spool")
    quarantine: Path = Path(".trackplan/quarantine.jsonl")
    forward_batch: int = 100
    forward_interval: float = 0.05
    backoff: float = 0.1
    max_backoff: float = 30.0


class Server:
    """One running server's state: the validator, the store, the forwarder."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.validator = LiveValidator(
            config.plan, strict_system=config.strict_system, fail_on=config.fail_on
        )
        self.store = Store(config.keep, config.store_dir)
        self.forwarder = (
            Forwarder(
                config.forward,
                config.spool,
                config.quarantine,
                forward_bad=config.forward_bad,
                batch=config.forward_batch,
                interval=config.forward_interval,
                backoff=config.backoff,
                max_backoff=config.max_backoff,
            )
            if config.forward
            else None
        )
        self.docs_base = (config.docs_url or "/trackplan/docs/").rstrip("/") + "/"
        self._site: dict[PurePosixPath, str] | None = None

    def docs_link(self, event: str) -> str | None:
        return f"{self.docs_base}events/{event}.html" if event in self.config.plan.events else None

    def record_json(self, record: Record) -> dict[str, Any]:
        return record.to_json(self.docs_link(record.verdict.row["event"]))

    async def capture(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refused(Refused(413, f"the body is over {self.config.limits.max_body} bytes"))
        query = {k: request.query[k] for k in request.query}
        if not raw and "data" in query:  # an image or GET fallback sends data= in the URL
            raw = query["data"].encode()
        try:
            captured = decode(
                raw,
                request.headers.get("Content-Type", ""),
                request.headers.get("Content-Encoding", ""),
                query,
                self.config.limits,
            )
        except Refused as refused:
            return _refused(refused)
        now = datetime.now(UTC)
        received = now.isoformat().replace("+00:00", "Z")
        if self.config.validate:
            verdicts = self.validator.check_many(captured.events, now)
        else:
            verdicts = [self.validator.unchecked(event, now) for event in captured.events]
        for event, verdict in zip(captured.events, verdicts, strict=True):
            self.store.add(verdict, received)
            if self.forwarder is not None:
                self.forwarder.accept(captured.token, event, verdict)
        self.store.flush()
        if self.forwarder is not None:
            self.forwarder.flush()
        batch = request.path.rstrip("/") == "/batch"
        return web.json_response({"status": "Ok"} if batch else {"status": 1})

    async def flags(self, request: web.Request) -> web.Response:
        with contextlib.suppress(Exception):
            await request.read()
        return web.json_response(NO_FLAGS)

    async def recording(self, request: web.Request) -> web.Response:
        with contextlib.suppress(Exception):
            await request.read()  # session recordings are accepted, never stored
        return web.json_response({"status": 1})

    async def remote_config(self, request: web.Request) -> web.Response:
        if request.path.endswith(".js"):
            return web.Response(text="", content_type="application/javascript")
        return web.json_response({})

    async def surveys(self, request: web.Request) -> web.Response:
        return web.json_response({"surveys": []})

    async def all(self, request: web.Request) -> web.Response:
        return web.json_response(self.store.counts())

    def _listed(self, request: web.Request, bad: bool) -> web.Response:
        records = self.store.select(
            bad=bad, event=request.query.get("event"), distinct_id=request.query.get("distinct_id")
        )
        body = [self.record_json(r) for r in records]
        return web.json_response(body, dumps=dumps)

    async def good(self, request: web.Request) -> web.Response:
        return self._listed(request, False)

    async def bad(self, request: web.Request) -> web.Response:
        return self._listed(request, True)

    async def reset(self, request: web.Request) -> web.Response:
        self.store.reset()
        self.validator.reset()
        return web.json_response(self.store.counts())

    async def forward_counts(self, request: web.Request) -> web.Response:
        if self.forwarder is None:
            return web.json_response(
                {"detail": "not a proxy: start with --forward URL"}, status=404
            )
        return web.json_response(self.forwarder.counts())

    async def ui(self, request: web.Request) -> web.Response:
        page = environment(autoescape=True).get_template("serve/ui.html.j2")
        text = page.render(plan=self.config.plan, validate=self.config.validate)
        return web.Response(text=text, content_type="text/html")

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: the latest records, then each one as it arrives."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[Record | None] = asyncio.Queue()
        self.store.listeners.add(queue)
        try:
            for recent in list(self.store.records)[-RECENT:]:
                await response.write(_sse(self.record_json(recent)))
            await response.write(_sse(self.store.counts(), "counts"))
            while True:
                try:
                    record: Record | None = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if record is None:
                    break
                await response.write(_sse(self.record_json(record)))
                if queue.empty():
                    await response.write(_sse(self.store.counts(), "counts"))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.listeners.discard(queue)
        return response

    async def docs(self, request: web.Request) -> web.Response:
        if self._site is None:
            from compiler.docs.site import render_site

            self._site = render_site(self.config.plan)
        path = PurePosixPath(request.match_info["path"] or "index.html")
        text = self._site.get(path)
        if text is None:
            raise web.HTTPNotFound()
        kinds = {".html": "text/html", ".css": "text/css", ".js": "application/javascript"}
        return web.Response(text=text, content_type=kinds.get(path.suffix, "text/plain"))

    async def other(self, request: web.Request) -> web.Response:
        """CORS preflights for every path; anything else here is no PostHog route."""
        if request.method == "OPTIONS":
            return web.Response(status=204)
        return web.json_response({"detail": f"no route {request.path}"}, status=404)


SERVER = web.AppKey("server", Server)


def _sse(value: Any, kind: str = "event") -> bytes:
    return f"event: {kind}\ndata: {dumps(value)}\n\n".encode()


def _refused(refused: Refused) -> web.Response:
    return web.json_response(refused.body(), status=refused.status)


@web.middleware
async def _cors_and_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """CORS for the SDKs on any page's origin; an unexpected error is a JSON 500, never a
    dropped connection, and the server keeps serving."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        response = web.json_response({"detail": exc.reason}, status=exc.status)
    except Exception as exc:  # noqa: BLE001 - the server must outlive any one request
        request.app.logger.exception("request failed")
        response = web.json_response({"detail": f"{type(exc).__name__}"}, status=500)
    if not response.prepared:
        origin = request.headers.get("Origin")
        response.headers["Access-Control-Allow-Origin"] = origin or "*"
        if origin:
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        asked = request.headers.get("Access-Control-Request-Headers")
        response.headers["Access-Control-Allow-Headers"] = asked or "*"
    return response


def make_app(config: ServeConfig) -> web.Application:
    server = Server(config)
    # The body limit is checked by `decode` after the read: aiohttp's own stops at one over it.
    # aiohttp must not inflate gzip bodies itself: `decode` does, bounded (a gzip bomb is 413).
    app = web.Application(
        client_max_size=config.limits.max_body + 1,
        middlewares=[_cors_and_errors],
        handler_args={"auto_decompress": False},
    )
    app[SERVER] = server
    for path in CAPTURE:
        for route in (path, path + "/"):
            app.router.add_route("POST", route, server.capture)
            app.router.add_route("GET", route, server.capture)
    for path in ("/decide", "/flags"):
        for route in (path, path + "/"):
            app.router.add_route("*", route, server.flags)
    for path in ("/s", "/s/", "/i/v0/s", "/i/v0/s/"):
        app.router.add_post(path, server.recording)
    app.router.add_get("/array/{token}/{name}", server.remote_config)
    app.router.add_get("/api/surveys/", server.surveys)
    app.router.add_get("/trackplan/all", server.all)
    app.router.add_get("/trackplan/good", server.good)
    app.router.add_get("/trackplan/bad", server.bad)
    app.router.add_post("/trackplan/reset", server.reset)
    app.router.add_get("/trackplan/forward", server.forward_counts)
    app.router.add_get("/trackplan/ui", server.ui)
    app.router.add_get("/trackplan/stream", server.stream)
    app.router.add_get("/trackplan/docs/{path:.*}", server.docs)
    app.router.add_route("*", "/{tail:.*}", server.other)

    async def started(app: web.Application) -> None:
        if server.forwarder is not None:
            await server.forwarder.start()

    async def stopping(app: web.Application) -> None:
        for queue in list(server.store.listeners):
            queue.put_nowait(None)

    async def stopped(app: web.Application) -> None:
        if server.forwarder is not None:
            await server.forwarder.stop()
        server.store.close()

    app.on_startup.append(started)
    app.on_shutdown.append(stopping)
    app.on_cleanup.append(stopped)
    return app
