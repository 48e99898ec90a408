"""Small hand-made PostHog exports for the report tests, valid against any plan.

`Person` scripts one person's events (name, days after start, property overrides); `write`
turns people into batch-export JSONL rows whose properties satisfy the plan (values from
tests/export_rows.py) and whose envelope fields use the plan's own field names.
"""

from __future__ import annotations

import json
import random
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from compiler.plan.model import Plan
from tests.export_rows import valid_value

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOP = ("event", "distinct_id", "timestamp")


@dataclass
class Person:
    id: str
    events: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)

    def did(self, event: str, day: float, **props: Any) -> Person:
        self.events.append((event, day, props))
        return self


def _properties(plan: Plan, event: str, rng: random.Random, person: str) -> dict[str, Any]:
    spec = plan.events[event]
    props: dict[str, Any] = {}
    for f in plan.envelope:
        if f.name in TOP or f.role in ("event_name", "distinct_id", "timestamp"):
            continue
        if f.required or f.name in spec.envelope_required:
            value = valid_value(f.property, rng)
            if f.role == "source" and f.property.enum:
                allowed = [v for v in f.property.enum if v in spec.layers]
                value = allowed[0] if allowed else value
            if f.role == "user_id":
                value = person
            props[f.posthog_name or f.name] = value
    for ep in spec.required:
        props[ep.name] = valid_value(ep.property, rng)
    return props


def rows(plan: Plan, people: list[Person], seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for person in people:
        for event, day, overrides in person.events:
            props = _properties(plan, event, rng, person.id) | overrides
            ts = (START + timedelta(days=day)).isoformat()
            out.append(
                {
                    "uuid": str(uuidlib.UUID(int=rng.getrandbits(128))),
                    "event": event,
                    "properties": props,
                    "distinct_id": person.id,
                    "timestamp": ts,
                    "created_at": ts,
                    "elements_chain": "",
                    "person_id": f"person-{person.id}",
                    "person_properties": {},
                }
            )
    out.sort(key=lambda r: (r["timestamp"], r["uuid"]))
    return out


def write(path: Path, plan: Plan, people: list[Person], seed: int = 3) -> list[dict[str, Any]]:
    found = rows(plan, people, seed)
    path.write_text("".join(json.dumps(r) + "\n" for r in found), encoding="utf-8")
    return found


def walk(
    plan: Plan, people: int, seed: int = 5, span_days: float = 60.0, floor: float = 0.0
) -> list[Person]:
    """`people` persons walking the plan's chain: each starts on a random day in
    [0, span_days) and takes each next step (a few minutes later) with the plan's default rate
    (0.5 when the plan gives none; at least `floor`), stopping at the first step not taken."""
    rng = random.Random(seed)
    out = []
    for i in range(people):
        person = Person(f"p{i:04d}")
        day = rng.uniform(0, span_days)
        previous = None
        for state in plan.chain:
            if previous is not None:
                t = plan.transition(state.id, previous.id)
                rate = max(t.rate if t is not None and t.rate is not None else 0.5, floor)
                if rng.random() >= rate:
                    break
            assert state.event is not None
            person.did(state.event, day)
            day += 0.002
            previous = state
        out.append(person)
    return out


def blanklogo_people(plan: Plan, people: int = 600, seed: int = 11) -> list[Person]:
    """The shipped plan's chain walked with generous rates, then money and churn added to the
    buyers: one-off packs and monthly subscriptions (some canceled, some renewed), top-ups,
    refunds, two currencies, and return visits for some of them."""
    rng = random.Random(seed)
    out = walk(plan, people, seed, span_days=75.0, floor=0.72)
    buyers = [p for p in out if any(e == "purchase_completed" for e, _, _ in p.events)]
    for i, person in enumerate(buyers):
        index = next(k for k, (e, _, _) in enumerate(person.events) if e == "purchase_completed")
        _, day, _ = person.events[index]
        currency = "EUR" if i % 3 == 0 else "USD"
        price = round(9.0 + (i % 7) * 2.5, 2)
        monthly = i % 2 == 1
        period = "monthly" if monthly else "one-time"
        person.events[index] = (
            "purchase_completed",
            day,
            {"price": price, "currency": currency, "billing_period": period},
        )
        if monthly:
            sub = {"subscription_id": f"sub_{i}", "billing_period": "monthly"}
            person.did("subscription_started", day + 0.01, price=price, currency=currency, **sub)
            if i % 4 == 1:
                person.did("subscription_canceled", day + rng.uniform(5, 40), **sub)
            else:
                person.did("subscription_renewed", day + 30, price=price, currency=currency, **sub)
        if i % 4 == 0:
            person.did("topup_purchased", day + 3, price=5.0, currency=currency)
        if i % 5 == 0:
            person.did(
                "refund_issued", day + 2, refund_amount=round(price / 2, 2), currency=currency
            )
        if i % 3 != 2:
            person.did("return_session", day + rng.uniform(1, 50), hours_since_last_session=30.0)
    for i, person in enumerate(out):  # the hazard's facts: failed jobs and slow jobs
        for k, (event, day, props) in enumerate(list(person.events)):
            if event != "processing_completed":
                continue
            if i % 5 == 0:
                person.events[k] = (event, day, {**props, "processing_time_ms": 200_000})
            if i % 6 == 0:
                person.did("processing_failed", day - 0.001)
    return out
