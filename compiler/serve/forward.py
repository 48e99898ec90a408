"""Proxy mode: good events forwarded to a PostHog host in batches, through a disk spool.

Every event to forward is first appended to the open spool segment (`open.jsonl`), so it is on
disk before the SDK gets its 200. A segment is sealed (`seg-<n>.jsonl`) when it holds a batch
or after `interval` seconds, then posted to `<url>/batch/`, one request per project token; it
is deleted only when PostHog accepted all of it. Failures are retried with exponential backoff,
the segment staying on disk, so a restart sends what the last run could not (`restored`).
Bad events go to the quarantine file with their findings, or with `forward_bad` are forwarded
with a `$trackplan_violations` property. The counts always add up:

    received + restored == forwarded + quarantined + spooled
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import IO, Any

import aiohttp

from compiler.serve.store import dumps
from compiler.serve.validate import Verdict

VIOLATIONS = "$trackplan_violations"


class Forwarder:
    def __init__(
        self,
        url: str,
        spool: Path,
        quarantine: Path | None,
        *,
        forward_bad: bool = False,
        batch: int = 100,
        interval: float = 0.05,
        backoff: float = 0.1,
        max_backoff: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/") + "/batch/"
        self.spool, self.quarantine_path = spool, quarantine
        self.forward_bad, self.batch, self.interval = forward_bad, batch, interval
        self.backoff, self.max_backoff = backoff, max_backoff
        self.received = self.forwarded = self.quarantined = self.spooled = self.restored = 0
        self.failures = 0
        self.last_error: str | None = None
        spool.mkdir(parents=True, exist_ok=True)
        self.open_lines = 0
        self.seq = max((_number(p) for p in spool.glob("seg-*.jsonl")), default=0)
        self._seal_leftover()
        self.restored = self.spooled = sum(_lines(p) for p in self._segments())
        self.segment: IO[str] = (spool / "open.jsonl").open("a", encoding="utf-8")
        self.quarantine: IO[str] | None = None
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.session: aiohttp.ClientSession | None = None

    def _seal_leftover(self) -> None:
        leftover = self.spool / "open.jsonl"
        if leftover.exists() and leftover.stat().st_size:
            # A line cut short by a crash is dropped with a count: it was never acknowledged.
            self.seq += 1
            leftover.rename(self.spool / f"seg-{self.seq:09d}.jsonl")

    def _segments(self) -> list[Path]:
        return sorted(self.spool.glob("seg-*.jsonl"), key=_number)

    def counts(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "forwarded": self.forwarded,
            "quarantined": self.quarantined,
            "spooled": self.spooled,
            "restored": self.restored,
            "failures": self.failures,
            "last_error": self.last_error,
        }

    def accept(self, token: str, event: dict[str, Any], verdict: Verdict) -> None:
        """Take one received event: spool it for forwarding, or quarantine it."""
        self.received += 1
        sent = {**event, "uuid": verdict.row["uuid"]}
        if verdict.bad and not self.forward_bad:
            if self.quarantine is None:
                assert self.quarantine_path is not None
                self.quarantine_path.parent.mkdir(parents=True, exist_ok=True)
                self.quarantine = self.quarantine_path.open("a", encoding="utf-8")
            findings = [f.to_json() for f in verdict.findings]
            self.quarantine.write(dumps({"api_key": token, "event": sent, "findings": findings}))
            self.quarantine.write("\n")
            self.quarantined += 1
            return
        if verdict.bad:
            props = dict(sent.get("properties") or {})
            props[VIOLATIONS] = [f.to_json() for f in verdict.findings]
            sent["properties"] = props
        self.segment.write(dumps({"api_key": token, "event": sent}) + "\n")
        self.open_lines += 1
        self.spooled += 1
        if self.open_lines >= self.batch:
            self.wake.set()

    def flush(self) -> None:
        """Make what was accepted durable before the SDK's request is answered."""
        self.segment.flush()
        if self.quarantine is not None:
            self.quarantine.flush()

    def _seal(self) -> None:
        if not self.open_lines:
            return
        self.segment.close()
        self.seq += 1
        (self.spool / "open.jsonl").rename(self.spool / f"seg-{self.seq:09d}.jsonl")
        self.segment = (self.spool / "open.jsonl").open("a", encoding="utf-8")
        self.open_lines = 0

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        delay = 0.0
        while True:
            if delay:
                await asyncio.sleep(delay)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            self._seal()
            ok = await self._send_all()
            delay = 0.0 if ok else min(self.max_backoff, max(self.backoff, delay * 2))

    async def _send_all(self) -> bool:
        for path in self._segments():
            if not await self._send(path):
                return False
        return True

    async def _send(self, path: Path) -> bool:
        lines = _read(path)
        by_token: dict[str, list[dict[str, Any]]] = {}
        for item in lines:
            by_token.setdefault(item["api_key"], []).append(item["event"])
        assert self.session is not None
        sent: set[str] = set()
        for token, events in by_token.items():
            try:
                async with self.session.post(
                    self.url, json={"api_key": token, "batch": events}
                ) as response:
                    await response.read()
                    if response.status >= 300:
                        raise aiohttp.ClientResponseError(
                            response.request_info, (), status=response.status
                        )
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                left = [i for i in lines if i["api_key"] not in sent]
                path.write_text("".join(dumps(i) + "\n" for i in left), encoding="utf-8")
                return False
            sent.add(token)
            self.forwarded += len(events)
            self.spooled -= len(events)
        path.unlink()
        return True

    async def stop(self, drain: float = 2.0) -> None:
        """Send what is left for up to `drain` seconds; the rest stays spooled on disk."""
        self._seal()
        self.flush()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.session is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._send_all(), drain)
            await self.session.close()
        self.segment.close()
        if self.quarantine is not None:
            self.quarantine.close()


def _number(path: Path) -> int:
    return int(path.stem.split("-")[1])


def _read(path: Path) -> list[dict[str, Any]]:
    """A segment's items; a line a crash cut short was never acknowledged and is skipped."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("event"), dict):
            out.append(item)
    return out


def _lines(path: Path) -> int:
    return len(_read(path))
