"""A capture request's body into events, as PostHog's capture endpoint reads it.

The SDKs send JSON (posthog-python, posthog-node), gzip (`Content-Encoding: gzip` or
posthog-js's `?compression=gzip-js`), base64 (`?compression=base64`, or a body that is not JSON)
and form bodies with `data=`, holding one event, a list of events, or `{"batch": [...]}`. What
cannot be read gets PostHog's status: 400 malformed, 401 without a project token, 413 over the
body limit (also when the decompressed body is: a gzip bomb never gets inflated past it), 415 a
content type no SDK sends.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import zlib
from dataclasses import dataclass
from typing import Any

from compiler.audit.reference import loads

# Content types a PostHog SDK sends (posthog-js's sendBeacon uses text/plain).
ACCEPTED_TYPES = frozenset(
    {
        "",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
    }
)
_SURROGATE = re.compile(rb"\\[uU][dD][89a-fA-F]")


@dataclass(frozen=True)
class Limits:
    max_body: int = 20 * 1024 * 1024  # bytes as sent (PostHog's own limit is 20 MB)
    max_decoded: int = 100 * 1024 * 1024  # bytes after gzip/base64
    max_events: int = 10_000  # events in one request
    max_depth: int = 64  # JSON nesting


class Refused(Exception):
    """A request answered with `status` and PostHog's error document."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def body(self) -> dict[str, str]:
        kind = "authentication_error" if self.status == 401 else "validation_error"
        code = {401: "invalid_api_key", 413: "payload_too_large", 415: "unsupported_media_type"}
        return {
            "type": kind,
            "code": code.get(self.status, "invalid_payload"),
            "detail": self.detail,
        }


@dataclass
class Capture:
    """The events of one request and the project token they came with."""

    token: str
    events: list[dict[str, Any]]


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise Refused(400, f"the gzip body cannot be read: {exc}") from None
    if len(out) > limit:
        raise Refused(413, f"the body inflates past {limit} bytes")
    if not inflater.eof:
        raise Refused(400, "the gzip body is truncated")
    return out


def _unbase64(raw: bytes) -> bytes:
    text = raw.strip()
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), validate=False)
    except (binascii.Error, ValueError):
        raise Refused(400, "the body is neither JSON nor base64") from None


def body_bytes(
    raw: bytes, content_type: str, content_encoding: str, query: dict[str, str], limits: Limits
) -> bytes:
    """The JSON text of a request body, undoing every encoding the SDKs use."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ACCEPTED_TYPES:
        raise Refused(415, f"content type {kind!r} is not one a PostHog SDK sends")
    if not raw.strip():
        raise Refused(400, "the body is empty")
    compression = query.get("compression", "").lower()
    if kind == "application/x-www-form-urlencoded" and raw.lstrip()[:1] not in (b"{", b"["):
        # A form body holds the payload in data=; clients that send a raw body with this
        # (default) content type are read as PostHog reads them, from the body itself.
        try:
            form = urllib.parse.parse_qs(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise Refused(400, "the form body is not valid UTF-8") from None
        if "data" in form:
            raw = form["data"][0].encode("utf-8")
            compression = form.get("compression", [compression])[0].lower()
    gzipped = "gzip" in content_encoding.lower() or compression in ("gzip", "gzip-js")
    if gzipped or raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, limits.max_decoded)
    elif compression == "base64" or raw.lstrip()[:1] not in (b"{", b"["):
        raw = _unbase64(raw)
        if raw[:2] == b"\x1f\x8b":
            raw = _gunzip(raw, limits.max_decoded)
    if len(raw) > limits.max_decoded:
        raise Refused(413, f"the body decodes past {limits.max_decoded} bytes")
    return raw


def _depth(value: Any, limit: int) -> bool:
    """Whether `value` nests deeper than `limit` (iteratively: no recursion to run out of)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return False


def parse(text: bytes, limits: Limits) -> Any:
    try:
        payload = loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refused(400, "the body is not valid UTF-8") from None
    except RecursionError:
        raise Refused(400, f"the JSON nests deeper than {limits.max_depth} levels") from None
    except ValueError as exc:
        raise Refused(400, f"the body is not JSON: {exc}") from None
    if _depth(payload, limits.max_depth):
        raise Refused(400, f"the JSON nests deeper than {limits.max_depth} levels")
    if _SURROGATE.search(text):
        try:
            json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise Refused(400, "the JSON escapes a lone UTF-16 surrogate") from None
    return payload


def capture(payload: Any, limits: Limits) -> Capture:
    """The events of a decoded payload and their project token (401 without one)."""
    top = payload if isinstance(payload, dict) else {}
    if isinstance(payload, list):
        events = payload
    elif isinstance(payload, dict) and isinstance(payload.get("batch"), list):
        events = payload["batch"]
    elif isinstance(payload, dict) and isinstance(payload.get("data"), (dict, list)):
        return capture(payload["data"], limits)
    elif isinstance(payload, dict):
        events = [payload]
    else:
        raise Refused(400, "the body holds no event object")
    if len(events) > limits.max_events:
        raise Refused(413, f"{len(events)} events in one request: the limit is {limits.max_events}")
    if not events:
        raise Refused(400, "the batch is empty")
    token = top.get("api_key") or top.get("token")
    for event in events:
        if not isinstance(event, dict):
            raise Refused(400, "a batch item is not an event object")
        props = event.get("properties")
        if props is not None and not isinstance(props, dict):
            raise Refused(400, "an event's properties are not an object")
        if not isinstance(event.get("event"), str) or not event["event"]:
            raise Refused(400, "an event has no event name")
        token = token or event.get("api_key") or event.get("token") or (props or {}).get("token")
    if not isinstance(token, str) or not token:
        raise Refused(401, "no project API key: send api_key, or token in the properties")
    return Capture(token, events)


def decode(
    raw: bytes, content_type: str, content_encoding: str, query: dict[str, str], limits: Limits
) -> Capture:
    if len(raw) > limits.max_body:
        raise Refused(413, f"the body is over {limits.max_body} bytes")
    text = body_bytes(raw, content_type, content_encoding, query, limits)
    return capture(parse(text, limits), limits)
