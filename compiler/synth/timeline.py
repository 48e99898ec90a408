"""One person's events in time order, as rows in PostHog's export shape.

A row is (timestamp_us, uuid, event, distinct_id, person_id, properties, person_properties,
created_at_us). `Envelope` reads the plan's envelope roles once: the `source` field gets the
layer's name, the `environment` field the plan's default environment, the `user_id` field the
user id once known, and browser layers (runtime browser, sent through posthog-js) get the session
id under the session field's PostHog name (`$session_id`). Fields are named as the plan names
them; a role the plan does not declare is simply not sent. Event builders supply only their own
properties.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from compiler.plan.model import Plan

Row = tuple[int, str, str, str, str, dict[str, Any], dict[str, Any], int]
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z: a fixed start keeps output stable
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
SECOND_US = 1_000_000
SESSION_GAP_US = 30 * MINUTE_US  # PostHog starts a new session after 30 idle minutes
LIBS = {"browser": "web", "server": "posthog-python"}  # $lib per layer runtime


def hex_id(r: random.Random, bits: int = 48) -> str:
    return f"{r.getrandbits(bits):0{bits // 4}x}"


def uuid7(t_us: int, r: random.Random) -> str:
    """A UUIDv7 (what PostHog uses): millisecond time prefix, then random bits."""
    rand = r.getrandbits(74)
    v = ((t_us // 1000) << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62)
    h = f"{v | (rand & ((1 << 62) - 1)):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4(r: random.Random) -> str:
    v = (r.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62)) | (0x4 << 76) | (0b10 << 62)
    h = f"{v:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _key(plan: Plan, role: str) -> str | None:
    field = plan.role(role)
    return None if field is None else field.posthog_name or field.name


class Envelope:
    """The plan's envelope as PostHog stores it, per layer."""

    def __init__(self, plan: Plan) -> None:
        self.source_key = _key(plan, "source")
        self.environment_key = _key(plan, "environment")
        self.user_key = _key(plan, "user_id")
        self.session_key = _key(plan, "session_id") or "$session_id"
        self.environment = plan.codegen.default_environment
        self.browser = frozenset(plan.browser_layers())
        self.keys = {f.name: f.posthog_name or f.name for f in plan.envelope}  # name -> key
        self.base: dict[str, dict[str, Any]] = {}
        for name, layer in plan.layers.items():
            base: dict[str, Any] = {}
            if self.source_key is not None:
                base[self.source_key] = name
            if self.environment_key is not None and self.environment is not None:
                base[self.environment_key] = self.environment
            base["$lib"] = LIBS.get(layer.runtime, "posthog-python")
            self.base[name] = base
        identity = plan.identity
        self.anonymous_prefix = identity.anonymous_prefix if identity else "anon_"
        self.user_prefix = identity.user_prefix if identity else "usr_"
        # The layer each event is sent from when the caller does not say: its first layer.
        self.sources = {name: event.layers[0] for name, event in plan.events.items()}


class Timeline:
    """Collects one person's rows; the clock only moves forward."""

    def __init__(
        self,
        envelope: Envelope,
        r: random.Random,
        start_us: int,
        attribution: Mapping[str, Any],
        person_properties: dict[str, Any],
        *,
        extra: Mapping[str, Any] | None = None,
        anon_id: str | None = None,
    ) -> None:
        self.envelope = envelope
        self.r = r
        self.t = start_us
        self.rows: list[Row] = []
        self.person_id = uuid4(r)
        self.anon_id = anon_id or envelope.anonymous_prefix + hex_id(r, 64)
        self.distinct_id = self.anon_id
        self.user_id: str | None = None  # set once known; sent on every later event
        self.attribution = attribution  # sent on the browser events of the first session
        self.extra = extra or {}  # envelope fields without a role, sent on every event
        self.person_properties = person_properties
        self.session_id = ""
        self.sessions_started = 0
        self.last_browser_us: int | None = None

    def wait(self, low_s: float, high_s: float) -> None:
        self.t += int((low_s + self.r.random() * (high_s - low_s)) * SECOND_US)

    def new_session(self) -> None:
        self.session_id = uuid7(self.t, self.r)
        self.sessions_started += 1

    def identify(self, user_id: str, *, source: str) -> None:
        """posthog-js identify(user_id): $identify links the anonymous id to the user."""
        self.user_id = user_id
        self.distinct_id = user_id
        self.emit("$identify", {"$anon_distinct_id": self.anon_id}, source=source)

    def alias(self, user_id: str, *, source: str) -> None:
        """posthog-python alias(previous_id, user_id): $create_alias from the anonymous id."""
        self.emit("$create_alias", {"distinct_id": self.anon_id, "alias": user_id}, source=source)
        self.user_id = user_id
        self.distinct_id = user_id

    def emit(self, event: str, props: Mapping[str, Any], *, source: str | None = None) -> None:
        env = self.envelope
        source = source or env.sources[event]
        full = env.base[source].copy()
        if source in env.browser:
            idle = (
                self.last_browser_us is not None and self.t - self.last_browser_us > SESSION_GAP_US
            )
            if idle or not self.session_id:
                self.new_session()
            self.last_browser_us = self.t
            full[env.session_key] = self.session_id
            if self.sessions_started == 1:
                full.update(self.attribution)
        if self.extra:
            full.update(self.extra)
        if self.user_id is not None and env.user_key is not None:
            full[env.user_key] = self.user_id
        full.update(props)
        lag = 150_000 + int(self.r.random() * 2_000_000)  # ingestion delay for created_at
        self.rows.append(
            (
                self.t,
                uuid7(self.t, self.r),
                event,
                self.distinct_id,
                self.person_id,
                full,
                self.person_properties,
                self.t + lag,
            )
        )
        self.t += 1000  # 1 ms: no two events of a person share a timestamp
