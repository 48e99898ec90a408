"""Helpers the `trackplan serve` tests share: raw HTTP requests, the server as a subprocess."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

TRACKPLAN = [sys.executable, "-m", "compiler"]


def post(
    url: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, Any]:
    """POST `body` as is; (status, JSON answer or the text when it is not JSON)."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode("utf-8", "replace")


def post_json(url: str, payload: Any, *, gzipped: bool = False) -> tuple[int, Any]:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    return post(url, body, headers)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def events(findings: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(f["kind"], f["property"]) for f in findings}


@contextmanager
def serve_process(*args: str, cwd: Path = ROOT) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`trackplan serve --port 0 ARGS` as a subprocess; yields its URL (read from stdout)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*TRACKPLAN, "serve", "--port", "0", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http://"):
            process.wait(30)
            assert process.stderr is not None
            raise AssertionError(f"serve did not start: {line} {process.stderr.read()}")
        yield line, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def wait_until(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = check()
    return value
