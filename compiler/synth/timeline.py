"""One person's events in time order, as rows in PostHog's export shape.

A row is (timestamp_us, uuid, event, distinct_id, person_id, properties, person_properties,
created_at_us). Envelope fields that PostHog keeps in `properties` (source, environment, user_id,
`$session_id`, attribution) are added here, so event builders only supply their own properties.
"""

from __future__ import annotations

import random
from typing import Any

from compiler.synth import catalog as c

Row = tuple[int, str, str, str, str, dict[str, Any], dict[str, Any], int]
LIBS = {"web": "web", "server": "posthog-python", "worker": "posthog-python"}
_BASE: dict[str, dict[str, Any]] = {
    source: {"source": source, "environment": "prod", "$lib": lib} for source, lib in LIBS.items()
}


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


class Timeline:
    """Collects one person's rows; the clock only moves forward."""

    def __init__(
        self,
        r: random.Random,
        sources: dict[str, str],
        start_us: int,
        attribution: dict[str, Any],
        person_properties: dict[str, Any],
    ) -> None:
        self.r = r
        self.sources = sources
        self.t = start_us
        self.rows: list[Row] = []
        self.person_id = uuid4(r)
        self.anon_id = "anon_" + hex_id(r, 64)
        self.distinct_id = self.anon_id
        self.user_id: str | None = None
        self.attribution = attribution
        self.person_properties = person_properties
        self.session_id = ""
        self.session_number = 0
        self.last_web_us: int | None = None
        self.credits = 0
        self.ltv = 0.0

    def wait(self, low_s: float, high_s: float) -> None:
        self.t += int((low_s + self.r.random() * (high_s - low_s)) * c.SECOND_US)

    def new_session(self) -> None:
        self.session_id = uuid7(self.t, self.r)
        self.session_number += 1

    def identify(self, user_id: str) -> None:
        """posthog.identify(user_id): $identify links the anonymous id to the user."""
        self.user_id = user_id
        self.distinct_id = user_id
        self.emit("$identify", {"$anon_distinct_id": self.anon_id}, source="web")

    def emit(self, event: str, props: dict[str, Any], *, source: str | None = None) -> None:
        source = source or self.sources[event]
        full = _BASE[source].copy()
        if source == "web":
            if self.last_web_us is not None and self.t - self.last_web_us > c.SESSION_GAP_US:
                self.new_session()
            self.last_web_us = self.t
            full["$session_id"] = self.session_id
            if self.session_number == 1:
                full.update(self.attribution)
        if self.user_id is not None:
            full["user_id"] = self.user_id
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
