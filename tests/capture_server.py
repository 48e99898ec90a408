"""A tiny PostHog capture endpoint on 127.0.0.1 that records what the real SDKs send.

It decodes the body forms the SDKs use (reference §2): plain or gzip JSON (gzip detected by its
magic bytes), `compression=base64` / form bodies with `data=`, and answers `/flags/` and the
remote config so posthog-js starts. Used by the Python, Node and browser-SDK tests.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CAPTURE_PATHS = ("/batch", "/e", "/i/v0/e", "/capture", "/track")


def decode_body(raw: bytes, query: dict[str, list[str]], content_type: str) -> Any:
    """The JSON payload of one capture request, whatever encoding the SDK chose."""
    if "application/x-www-form-urlencoded" in content_type:
        raw = urllib.parse.parse_qs(raw.decode())["data"][0].encode()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif query.get("compression", [""])[0] == "base64" or raw[:1] not in (b"{", b"["):
        raw = base64.b64decode(raw + b"=" * (-len(raw) % 4))
    return json.loads(raw)


def events_of(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and "batch" in payload:
        return list(payload["batch"])
    return [payload]


@dataclass
class Recorder:
    url: str
    requests: list[tuple[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                e
                for path, body in self.requests
                if path.rstrip("/").startswith(CAPTURE_PATHS)
                for e in events_of(body)
            ]

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.requests]


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _answer(self, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer({})

        def do_OPTIONS(self) -> None:  # noqa: N802
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "*")
            self.end_headers()

        def do_POST(self) -> None:  # noqa: N802
            parsed = urllib.parse.urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            query = urllib.parse.parse_qs(parsed.query)
            body = decode_body(raw, query, self.headers.get("Content-Type", ""))
            with recorder.lock:
                recorder.requests.append((parsed.path, body))
            if parsed.path.startswith("/flags") or parsed.path.startswith("/decide"):
                self._answer({"flags": {}, "featureFlags": {}, "errorsWhileComputingFlags": False})
            else:
                self._answer({"status": "Ok"})

    return Handler


@contextmanager
def capture_server() -> Iterator[Recorder]:
    """Serve on a free port of 127.0.0.1 for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Recorder(url="")))
    recorder = Recorder(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(recorder)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
