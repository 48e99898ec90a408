"""The malformed-request corpus: each request gets PostHog's status code and a JSON reason, never
a crash; the server keeps serving and counts nothing it could not read. Also every body form the
SDKs use (JSON, gzip by header or by `compression=gzip-js`, base64, form `data=`) is read."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse
from collections.abc import Iterator

import pytest

from compiler.docs.examples import posthog_example
from compiler.plan import Plan
from compiler.serve.app import ServeConfig
from compiler.serve.decode import Limits
from compiler.serve.testing import RunningServer, running
from tests.serve_support import get_json, post

LIMITS = Limits(max_body=1_000_000, max_decoded=5_000_000, max_events=1_000, max_depth=64)
JSON = {"Content-Type": "application/json"}


def _event(plan: Plan) -> dict[str, object]:
    return posthog_example(plan, plan.events["landing_view"])


@pytest.fixture(scope="module")
def server(plan: Plan) -> Iterator[RunningServer]:
    with running(plan, ServeConfig(plan, limits=LIMITS)) as running_server:
        yield running_server


def _nested(depth: int) -> bytes:
    return b'{"api_key": "k", "event": "landing_view", "properties": {"x": ' + (
        b"[" * depth + b"]" * depth + b"}}"
    )


def _corpus(plan: Plan) -> list[tuple[str, bytes, dict[str, str], int]]:
    one = json.dumps({"api_key": "k", "batch": [_event(plan)]}).encode()
    zipped = gzip.compress(one)
    many = json.dumps({"api_key": "k", "batch": [_event(plan)] * 1_001}).encode()
    bomb = gzip.compress(b"[" + b" " * 20_000_000 + b"]", compresslevel=9)
    assert len(bomb) < LIMITS.max_body  # small as sent, 20 MB inflated
    return [
        ("empty body", b"", JSON, 400),
        ("whitespace body", b"  \n", JSON, 400),
        ("truncated gzip", zipped[: len(zipped) // 2], {"Content-Encoding": "gzip"}, 400),
        ("gzip header only", zipped[:10], {**JSON, "Content-Encoding": "gzip"}, 400),
        ("not gzip but says so", one, {**JSON, "Content-Encoding": "gzip"}, 400),
        ("wrong content type xml", b"<event/>", {"Content-Type": "application/xml"}, 415),
        ("wrong content type multipart", one, {"Content-Type": "multipart/form-data"}, 415),
        ("invalid utf-8", b'{"api_key": "k", "event": "\xff\xfe"}', JSON, 400),
        ("lone surrogate", b'{"api_key": "k", "event": "x\\ud800"}', JSON, 400),
        ("not json", b"{event: landing_view}", JSON, 400),
        ("truncated json", one[:-3], JSON, 400),
        ("bad base64", b"@@@@not-base64@@@@", {"Content-Type": "text/plain"}, 400),
        ("deeply nested json", _nested(100_000), JSON, 400),
        ("nested past the depth limit", _nested(100), JSON, 400),
        ("huge batch by count", many, JSON, 413),
        ("huge body", b"[" + b" " * 1_000_001 + b"]", JSON, 413),
        ("gzip bomb", bomb, {**JSON, "Content-Encoding": "gzip"}, 413),
        ("gzip bomb by query", bomb, {"Content-Type": "text/plain"}, 413),
        ("no token", json.dumps({"batch": [_event(plan)]}).encode(), JSON, 401),
        ("batch of non-objects", b'{"api_key": "k", "batch": [1, 2]}', JSON, 400),
        ("empty batch", b'{"api_key": "k", "batch": []}', JSON, 400),
        ("no event name", b'{"api_key": "k", "properties": {}}', JSON, 400),
        ("properties not an object", b'{"api_key": "k", "event": "a", "properties": 3}', JSON, 400),
        ("a bare number", b"42", JSON, 400),
        ("form without data", b"x=1", {"Content-Type": "application/x-www-form-urlencoded"}, 400),
    ]


def test_corpus_gets_the_right_status_and_the_server_keeps_serving(
    server: RunningServer, plan: Plan
) -> None:
    before = server.all()
    good = json.dumps({"api_key": "k", "batch": [_event(plan)]}).encode()
    for name, body, headers, expected in _corpus(plan):
        query = "?compression=gzip-js" if name.endswith("by query") else ""
        status, answer = post(server.url + "/batch/" + query, body, headers)
        assert status == expected, (name, answer)
        assert isinstance(answer, dict) and answer["detail"], name
        assert post(server.url + "/e/", good, JSON) == (200, {"status": 1}), name
    assert server.all()["total"] == before["total"] + len(_corpus(plan))
    assert get_json(server.url + "/trackplan/all")["bad"] == before["bad"]


@pytest.mark.parametrize("path", ["/e/", "/i/v0/e/", "/batch/", "/capture/", "/track/", "/e"])
def test_every_capture_path_and_body_form(server: RunningServer, plan: Plan, path: str) -> None:
    event = {**_event(plan), "api_key": "k"}
    text = json.dumps([event]).encode()
    forms: list[tuple[str, bytes, dict[str, str]]] = [
        ("", text, JSON),
        ("", json.dumps(event).encode(), {"Content-Type": "text/plain"}),
        ("", gzip.compress(text), {**JSON, "Content-Encoding": "gzip"}),
        ("?compression=gzip-js", gzip.compress(text), {"Content-Type": "text/plain"}),
        ("?compression=base64", base64.b64encode(text), {"Content-Type": "text/plain"}),
        ("", base64.b64encode(text), {}),
        (
            "",
            urllib.parse.urlencode({"data": base64.b64encode(text).decode()}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        (
            "",
            urllib.parse.urlencode({"data": text.decode()}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
    ]
    server.reset()
    for query, body, headers in forms:
        status, answer = post(server.url + path + query, body, headers)
        assert status == 200, (query, headers, answer)
        assert answer == ({"status": "Ok"} if path == "/batch/" else {"status": 1})
    assert server.all() == {"total": len(forms), "good": len(forms), "bad": 0}
    assert {e["distinct_id"] for e in server.good()} == {event["distinct_id"]}


def test_flags_config_and_recordings_answer_without_storing(server: RunningServer) -> None:
    before = server.all()
    for path in ("/flags/?v=2", "/decide/?v=3"):
        status, answer = post(server.url + path, b'{"token": "k", "distinct_id": "a"}', JSON)
        assert status == 200 and answer["featureFlags"] == {} and answer["flags"] == {}
    assert post(server.url + "/s/", gzip.compress(b"[]"), JSON)[0] == 200
    assert get_json(server.url + "/array/phc_test/config") == {}
    assert server.all() == before
