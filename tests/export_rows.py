"""Plan-valid PostHog rows for tests and the audit benchmark (not a product feature).

`valid_properties` gives one value per property that satisfies its schema, so a row built from
it is clean; tests then mutate such rows. Envelope fields the SDK or tracker fills (source,
environment, session id) are found by their role, under the plan's names, and left out when
the plan has no such role. `write_posthog_jsonl` streams a large batch-export
file fast: it pre-renders a few hundred property blocks and fills in ids and times per line.
"""

from __future__ import annotations

import json
import random
import uuid as uuidlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from compiler.plan.model import EnvelopeField, Event, Plan, Property
from compiler.targets.jsonschema import property_schema

_FORMAT_VALUES = {
    "date-time": "2026-01-12T10:00:00+00:00",
    "date": "2026-01-12",
    "email": "person@example.com",
    "uri": "https://blanklogo.app/app",
    "uuid": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
}


_PATTERN_VALUES = {"[A-Z]{2}": "US", "[A-Z]{3}": "USD", "[0-9]+x[0-9]+": "1920x1080", "^/": "/app"}


def _pattern_value(prop: Property) -> str:
    pattern = prop.pattern or ""
    for fragment, value in _PATTERN_VALUES.items():
        if fragment in pattern:
            return value
    prefix = pattern.removeprefix("^").split("[", 1)[0].split("(", 1)[0]
    return f"{prefix}abc123"


def valid_value(prop: Property, rng: random.Random) -> Any:
    """A value that satisfies `prop`'s schema."""
    if prop.enum:
        return rng.choice(list(prop.enum))
    if prop.type == "boolean":
        return rng.random() < 0.5
    if prop.type in ("integer", "number"):
        low = prop.minimum if prop.minimum is not None else 0
        high = prop.maximum if prop.maximum is not None else low + 1000
        value = rng.uniform(low, high)
        return int(value) if prop.type == "integer" else round(value, 3)
    if prop.type == "array":
        item = rng.choice(list(prop.items_enum)) if prop.items_enum else "x"
        return [item] if prop.items_type != "integer" else [1]
    if prop.format:
        return _FORMAT_VALUES[prop.format]
    if prop.pattern:
        return _pattern_value(prop)
    text = "value"
    if prop.min_length and len(text) < prop.min_length:
        text = text * prop.min_length
    if prop.max_length is not None:
        text = text[: prop.max_length]
    return text


def _key(field: EnvelopeField) -> str:
    return field.posthog_name or field.name


def _session_value(prop: Property) -> Any:
    """A fixed session id when the plan's property accepts it (no draw from the row's rng)."""
    text = "sess_abc123"
    if Draft202012Validator(property_schema(prop)).is_valid(text):
        return text
    return valid_value(prop, random.Random(0))


def valid_properties(plan: Plan, event: Event, rng: random.Random) -> dict[str, Any]:
    """PostHog-shaped `properties` for `event`: envelope fields inside, under their PostHog
    names (BlankLogo's session id as $session_id)."""
    props: dict[str, Any] = {}
    source, environment = plan.role("source"), plan.role("environment")
    session = plan.role("session_id")
    if source is not None:
        props[_key(source)] = rng.choice(list(event.layers))
    if environment is not None:
        props[_key(environment)] = plan.codegen.default_environment
    if session is not None:
        props[_key(session)] = _session_value(session.property)
    props.update({"$lib": "posthog-python", "$lib_version": "7.0.0"})
    if "token" in plan.conventions.sdk_properties:
        props["token"] = "phc_test"
    for field in plan.envelope:
        if field.name in event.envelope_required and field.placement == "top":
            props.setdefault(field.name, valid_value(field.property, rng))
        if field.placement == "properties" and field.required:
            props[field.name] = valid_value(field.property, rng)
    for ep in event.properties:
        if ep.required or rng.random() < 0.5:
            props[ep.name] = valid_value(ep.property, rng)
    return props


def posthog_row(plan: Plan, event: str, rng: random.Random, **top: Any) -> dict[str, Any]:
    """One batch-export row (the JSONL shape) for `event`, valid against the plan."""
    row: dict[str, Any] = {
        "uuid": str(uuidlib.UUID(int=rng.getrandbits(128))),
        "event": event,
        "properties": valid_properties(plan, plan.events[event], rng),
        "distinct_id": "usr_1",
        "timestamp": "2026-01-12T10:00:00.000000+00:00",
        "created_at": "2026-01-12T10:00:01.000000+00:00",
        "elements_chain": "",
        "person_id": "0190a1b2-0000-7000-8000-000000000001",
        "person_properties": {},
    }
    row.update(top)
    return row


def _templates(plan: Plan, rng: random.Random, count: int) -> list[tuple[str, str]]:
    # Events with no cross-row rule, so the generated stream has no sequence findings.
    ruled = {e for rule in plan.sequence_rules.values() for e in rule.events}
    if plan.identity:
        ruled.add(plan.identity.stitch_on)
    user = plan.role("user_id")
    names = [
        n
        for n in plan.events
        if n not in ruled and user is not None and user.name in plan.events[n].envelope_required
    ]
    names += [n for n in plan.events if n not in ruled and n not in names]
    out = []
    for i in range(count):
        name = names[i % len(names)]
        props = valid_properties(plan, plan.events[name], rng)
        if user is not None:
            props[_key(user)] = "usr_{n}"
        block = (
            json.dumps(props, separators=(",", ":")).replace("%", "%%").replace("usr_{n}", "usr_%d")
        )
        out.append((name, block))
    return out


def posthog_lines(plan: Plan, rows: int, seed: int = 7) -> Iterator[str]:
    """`rows` JSONL lines of a PostHog batch export; persons are identified users throughout."""
    rng = random.Random(seed)
    # The user id fills a template's %d, when the plan has a user id field.
    templates = [(n, b, "%d" in b.replace("%%", "")) for n, b in _templates(plan, rng, 400)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(rows):
        name, template, has_user = templates[i % len(templates)]
        user = i % 50_000
        block = template % user if has_user else template % ()
        ts = (start + timedelta(seconds=i)).isoformat()
        yield (
            f'{{"uuid":"{uuidlib.UUID(int=i + 1)}","event":"{name}",'
            f'"properties":{block},"distinct_id":"usr_{user}",'
            f'"timestamp":"{ts}","created_at":"{ts}","elements_chain":"",'
            f'"person_id":"person-{user}","person_properties":{{}}}}\n'
        )


def write_posthog_jsonl(path: Path, plan: Plan, rows: int, seed: int = 7) -> Path:
    with path.open("w", encoding="utf-8") as out:
        batch: list[str] = []
        for line in posthog_lines(plan, rows, seed):
            batch.append(line)
            if len(batch) == 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return path
