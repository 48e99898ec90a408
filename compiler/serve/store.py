"""What the server has seen: counts, the latest events in memory, an optional JSONL log.

Counts (total, good, bad) cover every event since the start or the last reset; the events
themselves are kept up to `keep` in memory (the oldest dropped first) and, with a store
directory, appended to `events.jsonl` there, one PostHog export row per line, which
`trackplan audit` reads. Live listeners (the debugger page's event stream) get each record.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from compiler.serve.validate import Verdict


@dataclass
class Record:
    id: int
    received_at: str
    verdict: Verdict

    def to_json(self, docs: str | None = None) -> dict[str, Any]:
        row = self.verdict.row
        out: dict[str, Any] = {
            "id": self.id,
            "received_at": self.received_at,
            "good": not self.verdict.bad,
            **row,
            "findings": [f.to_json() for f in self.verdict.findings],
        }
        if docs is not None:
            out["docs"] = docs
        return out


def dumps(value: Any) -> str:
    # default=str: a number past a double's range (reference.Overflow) is kept as its text.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class Store:
    def __init__(self, keep: int = 100_000, directory: Path | None = None) -> None:
        self.records: deque[Record] = deque(maxlen=keep)
        self.total = self.good = self.bad = 0
        self.next_id = 1
        self.listeners: set[asyncio.Queue[Record | None]] = set()
        self.log: IO[str] | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self.log = (directory / "events.jsonl").open("a", encoding="utf-8")

    def add(self, verdict: Verdict, received_at: str) -> Record:
        record = Record(self.next_id, received_at, verdict)
        self.next_id += 1
        self.total += 1
        if verdict.bad:
            self.bad += 1
        else:
            self.good += 1
        self.records.append(record)
        if self.log is not None:
            self.log.write(dumps(verdict.row) + "\n")
        for queue in list(self.listeners):
            if queue.qsize() < 10_000:  # a stalled page loses events, never the server memory
                queue.put_nowait(record)
        return record

    def flush(self) -> None:
        if self.log is not None:
            self.log.flush()

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "good": self.good, "bad": self.bad}

    def select(
        self, *, bad: bool, event: str | None = None, distinct_id: str | None = None
    ) -> list[Record]:
        return [
            r
            for r in self.records
            if r.verdict.bad == bad
            and (event is None or r.verdict.row["event"] == event)
            and (distinct_id is None or r.verdict.row["distinct_id"] == distinct_id)
        ]

    def reset(self) -> None:
        self.records.clear()
        self.total = self.good = self.bad = 0

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
