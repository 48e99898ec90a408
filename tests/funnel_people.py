"""A quick, deterministic generator of PostHog-shaped funnel events for the rates tests and
benchmark (the full `trackplan synth` lives elsewhere; this one only needs the funnel's events).

People walk S0 -> S9 with known rates, log in via `$identify` (or `$create_alias` for some),
run jobs that sometimes fail or are slow, buy packs or subscriptions (priced in USD or EUR, a
few refunded, a few without a price), return, cancel. Noise the queries must handle: repeated
events, a CTA click before landing, purchases without a download.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CHAIN = (
    ("ad_click", 1.0),
    ("landing_view", 0.98),
    ("cta_click", 0.30),
    ("signup_submit", 0.50),
    ("login_success", 0.80),
    ("credits_granted", 0.98),
    ("upload_completed", 0.90),
    ("processing_completed", 0.85),
    ("download_clicked", 0.95),
    ("purchase_completed", 0.30),
)
START = datetime(2026, 1, 1, tzinfo=UTC)
Row = tuple[str, str, str, datetime, str | None, str]


class _Person:
    def __init__(self, rng: random.Random, i: int, days: int, with_person_id: bool) -> None:
        self.rng, self.rows = rng, []  # type: list[Row]
        self.anon, self.user = f"anon_{i}", f"usr_{i}"
        self.pid = str(uuid.UUID(int=rng.getrandbits(128))) if with_person_id else None
        self.did = self.anon
        self.t = START + timedelta(seconds=rng.uniform(0, days * 86400))

    def emit(self, event: str, minutes: float = 5, **props: Any) -> None:
        self.t += timedelta(minutes=self.rng.uniform(0.1, minutes))
        props.setdefault("$session_id", f"sess_{self.did}")
        uid = str(uuid.UUID(int=self.rng.getrandbits(128)))
        self.rows.append((uid, event, self.did, self.t, self.pid, json.dumps(props)))


def _walk(p: _Person, rng: random.Random) -> None:
    for k, (event, rate) in enumerate(CHAIN):
        if rng.random() >= rate:
            return
        if k and rng.random() < 0.1:
            p.t += timedelta(days=rng.uniform(0.5, 5))  # came back days later
        if event == "landing_view" and rng.random() < 0.05:
            p.emit("cta_click")  # out of order: does not count as S2
        if event == "login_success":
            p.emit("login_success")
            if rng.random() < 0.8:
                p.emit("$identify", 0.01, **{"$anon_distinct_id": p.anon})
                p.did = p.user
                p.rows[-1] = p.rows[-1][:2] + (p.user,) + p.rows[-1][3:]
            else:
                p.emit("$create_alias", 0.01, alias=p.user)
                p.did = p.user
            continue
        if event == "processing_completed":
            _jobs(p, rng)
            continue
        if event == "purchase_completed":
            _purchase(p, rng)
            continue
        if event == "signup_submit":
            p.emit("signup_start")
        p.emit(event)
        if rng.random() < 0.1:
            p.emit(event)  # repeated event: still one person, first time counts
        if event == "credits_granted" and rng.random() < 0.95:
            p.emit("activation_complete")
    if rng.random() < 0.01:
        p.emit("purchase_completed", billing_period="one-time")  # bought without the chain


def _jobs(p: _Person, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.2:
            p.emit("processing_failed", 20, processing_time_ms=rng.randint(1000, 9000))
        slow = rng.random() < 0.2
        p.emit(
            "processing_completed",
            20,
            processing_time_ms=(
                rng.randint(130_000, 400_000) if slow else rng.randint(5_000, 100_000)
            ),
        )


def _money(rng: random.Random) -> dict[str, Any]:
    """A price in USD (most) or EUR; now and then an event without one."""
    if rng.random() < 0.03:
        return {}
    return {"price": rng.choice([9.0, 19.0, 49.5]), "currency": rng.choice(["USD"] * 3 + ["EUR"])}


def _purchase(p: _Person, rng: random.Random) -> None:
    monthly = rng.random() < 0.4
    period = "monthly" if monthly else "one-time"
    money = _money(rng)
    p.emit("purchase_completed", 60, billing_period=period, **money)
    if money and rng.random() < 0.1:
        p.emit("refund_issued", 600, refund_amount=money["price"], currency=money["currency"])
    if monthly:
        sub = f"sub_{p.user}"
        p.emit("subscription_started", 0.1, subscription_id=sub)
        if rng.random() < 0.3:
            p.t += timedelta(days=rng.uniform(1, 50))
            p.emit("subscription_canceled", subscription_id=sub)
    elif rng.random() < 0.2:
        p.t += timedelta(days=rng.uniform(1, 40))
        p.emit("topup_purchased", price=5.0, currency="USD")
    for _ in range(rng.randint(0, 3)):
        p.t += timedelta(days=rng.expovariate(1 / 15))
        p.emit("return_session" if rng.random() < 0.5 else "processing_completed")


def people_rows(n: int, *, seed: int = 7, days: int = 60, with_person_id: bool = True) -> list[Row]:
    """Rows (uuid, event, distinct_id, timestamp, person_id, properties JSON) for n people."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for i in range(n):
        person = _Person(rng, i, days, with_person_id)
        _walk(person, rng)
        rows.extend(person.rows)
    rows.sort(key=lambda r: (r[3], r[0]))
    return rows


COLUMNS = {
    "uuid": "VARCHAR",
    "event": "VARCHAR",
    "distinct_id": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "person_id": "VARCHAR",
    "properties": "VARCHAR",
}


def load_duckdb(con: Any, rows: list[Row], tmp: Path) -> None:
    """Create the `events` table (the shape compiler.exports.open_events gives) from rows."""
    path = tmp / "events-table.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, (uid, event, did, ts, pid, props) in enumerate(rows):
            values = (uid, event, did, ts.isoformat(), pid, props)
            out.write(json.dumps({**dict(zip(COLUMNS, values, strict=True)), "_row": i}) + "\n")
    columns = {**COLUMNS, "_row": "BIGINT"}
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    con.execute(
        "CREATE OR REPLACE TABLE events AS SELECT uuid, event, distinct_id, timestamp, person_id, "
        f"properties, 'test' AS _file, _row FROM read_json('{path}', format='newline_delimited', "
        f"columns={spec})"
    )


def write_jsonl(path: Path, rows: list[Row]) -> None:
    """A PostHog batch export (JSON Lines) of the rows."""
    with path.open("w", encoding="utf-8") as out:
        for uid, event, did, ts, pid, props in rows:
            record = {
                "uuid": uid,
                "event": event,
                "properties": json.loads(props),
                "distinct_id": did,
                "timestamp": ts.isoformat(),
                "elements_chain": "",
                "person_id": pid,
                "person_properties": {},
            }
            out.write(json.dumps(record) + "\n")
