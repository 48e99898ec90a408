"""`trackplan serve` under load: 8 concurrent clients sending 10,000 events each, events/s and
request latency (p50, p99), beside the same server with validation switched off (`--no-validate`)
in the same run. The server runs as its own process (`trackplan serve`), the clients are
asyncio tasks on aiohttp in this one; each run checks that the server received every event.

The load generator is shared with tests/test_serve_load.py, which runs it smaller.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from compiler.docs.examples import posthog_example
from compiler.plan import Plan, load_plan
from tests.conftest import PLAN_DIR
from tests.serve_support import get_json, serve_process

CLIENTS = 8
EVENTS = 10_000
BATCH = 100  # posthog-python's and posthog-node's default flush size


def traffic(plan: Plan, client: int, count: int, event: str | None = None) -> list[dict[str, Any]]:
    """`count` events of one client (its own distinct id), the plan's examples in turn (or only
    `event`'s), each with its own uuid; every 10th has a required property removed."""
    names = [event] if event else sorted(plan.events)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for n in range(count):
        item = posthog_example(plan, plan.events[names[n % len(names)]])
        item["uuid"] = str(uuid.UUID(int=(client << 64) | n))
        item["distinct_id"] = f"anon_load{client}"
        item["timestamp"] = (start + timedelta(milliseconds=n)).isoformat()
        if n % 10 == 9:
            props = item["properties"]
            required = [p.name for p in plan.events[item["event"]].required]
            props.pop(required[0] if required else next(iter(props)), None)
        out.append(item)
    return out


@dataclass
class Load:
    sent: int
    seconds: float
    latencies: list[float]  # seconds per request

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def words(self) -> str:
        return (
            f"{self.rate:,.0f} events/s, p50 {self.percentile(0.5):.1f} ms, "
            f"p99 {self.percentile(0.99):.1f} ms per request"
        )


async def _client(
    session: aiohttp.ClientSession, url: str, events: list[dict[str, Any]], batch: int
) -> list[float]:
    latencies = []
    for at in range(0, len(events), batch):
        body = json.dumps({"api_key": "phc_load", "batch": events[at : at + batch]})
        started = time.perf_counter()
        async with session.post(
            url + "/batch/", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
        latencies.append(time.perf_counter() - started)
    return latencies


async def _load(url: str, per_client: list[list[dict[str, Any]]], batch: int) -> Load:
    connector = aiohttp.TCPConnector(limit=len(per_client))
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        done = await asyncio.gather(*(_client(session, url, e, batch) for e in per_client))
        seconds = time.perf_counter() - started
    return Load(sum(map(len, per_client)), seconds, [t for lat in done for t in lat])


def load(url: str, per_client: list[list[dict[str, Any]]], batch: int = BATCH) -> Load:
    """Send each list of events from its own concurrent client, `batch` events a request."""
    return asyncio.run(_load(url, per_client, batch))


def _measure(plan: Plan, validate: bool, count: int, batch: int) -> Load:
    per_client = [traffic(plan, c, count) for c in range(CLIENTS)]
    flags = [] if validate else ["--no-validate"]
    with serve_process("--plan", str(PLAN_DIR), "--max-events", "1000", *flags) as (url, _):
        result = load(url, per_client, batch)
        counts = get_json(url + "/trackplan/all")
    if counts["total"] != result.sent:  # received = sent, or the figures mean nothing
        raise AssertionError(f"sent {result.sent}, the server counted {counts}")
    return result


def run() -> list[dict[str, Any]]:
    plan = load_plan(PLAN_DIR).plan
    rows = []
    for count, batch, label in (
        (EVENTS, BATCH, f"{CLIENTS} clients x {EVENTS:,} events, batches of {BATCH}"),
        (1_000, 1, f"{CLIENTS} clients x 1,000 single-event requests (posthog-js style)"),
    ):
        checked = _measure(plan, True, count, batch)
        unchecked = _measure(plan, False, count, batch)
        rows.append(
            {
                "name": f"trackplan serve: {label}",
                "figures": "validating: " + checked.words(),
                "baseline": "validation off: " + unchecked.words(),
                "ratio": f"{checked.rate / unchecked.rate:.2f}x the throughput, p50 "
                f"{statistics.median(checked.latencies) / statistics.median(unchecked.latencies):.1f}x",
            }
        )
    return rows
