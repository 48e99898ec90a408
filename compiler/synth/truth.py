"""`synth --truth`: each person's facts, to score models against later. `.jsonl` or `.csv`.

The generic engine's record per person, with the plan's definitions applied to the events the
person was given (so a recount of the export agrees with it exactly):
- `reached_state`: the last chain state; `at_<id>`: when they reached each chain state (the
  earliest event of the state at or after reaching the one before), null if never;
- `state_<id>` for each modelled rule state: retained (one of its events within `days` after
  reaching `after`), or churned (no activity event within the window after the anchor, or a
  cancel event in it); null for people outside its population;
- `churn_probability_<id>`: the probability their churn was drawn with (clip(base + extras));
- `covariate_<name>`: the covariate's event (passing its test) at or before the anchor;
- `revenue`, `refunds`: the sums of the plan's revenue and refund values they sent.
A profile writes its own fields (see profile.py).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from compiler.synth.draw import People
from compiler.synth.timeline import DAY_US, Row
from compiler.synth.values import Where
from compiler.synth.world import World

IDS = ("person_id", "anon_distinct_id", "user_id")


class TruthError(ValueError):
    pass


def truth_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise TruthError(f"{path}: the truth file must end in .jsonl or .csv")


def iso(t_us: int) -> str:
    """The export's own timestamp text: 2026-01-01T10:00:00.123456+00:00."""
    at = datetime.fromtimestamp(t_us // 1_000_000, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S") + f".{t_us % 1_000_000:06d}+00:00"


def fields(world: World) -> tuple[str, ...]:
    out = [*IDS, "reached_state", *(f"at_{s.id}" for s in world.chain)]
    out += [f"state_{r.state.id}" for r in world.retention]
    for q in world.quiet:
        out += [f"state_{q.state.id}", f"churn_probability_{q.state.id}"]
        out += [f"covariate_{c.name}" for c in q.covariates]
    if world.plan.revenue is not None:
        out += ["revenue", "refunds"]
    return tuple(out)


def reach(world: World, events: Sequence[tuple[int, str, dict[str, Any]]]) -> list[int]:
    """t_k per chain state: the earliest event of state k at or after t_(k-1); -1 if never."""
    out = [-1] * len(world.chain)
    since = None
    for k, state in enumerate(world.chain):
        hits = [t for t, e, _ in events if e == state.event and (since is None or t >= since)]
        if not hits:
            break
        out[k] = since = min(hits)
    return out


def realize(world: World, people: People, i: int, rows: Sequence[Row]) -> dict[str, Any]:
    events = [(row[0], row[2], row[5]) for row in rows if not row[2].startswith("$")]
    times = reach(world, events)
    reached = max((k for k, t in enumerate(times) if t >= 0), default=-1)
    out: dict[str, Any] = {"reached_state": world.chain[reached].id if reached >= 0 else None}
    out |= {
        f"at_{s.id}": iso(t) if t >= 0 else None for s, t in zip(world.chain, times, strict=True)
    }
    for rule in world.retention:
        start = times[rule.after]
        end = start + rule.days * DAY_US
        out[f"state_{rule.state.id}"] = (
            None if start < 0 else any(start < t <= end and e in rule.events for t, e, _ in events)
        )
    for q, model in enumerate(world.quiet):
        sid = model.state.id
        p = float(people.churn_p[i, q])
        out[f"churn_probability_{sid}"] = None if math.isnan(p) else round(p, 6)
        if times[model.at_risk] < 0:
            out[f"state_{sid}"] = None
            out |= {f"covariate_{c.name}": None for c in model.covariates}
            continue
        anchor = times[model.anchor] if times[model.anchor] >= 0 else times[model.at_risk]
        end = anchor + model.window_days * DAY_US
        window = [e for t, e, _ in events if anchor < t <= end]
        active = any(e in model.activity for e in window)
        out[f"state_{sid}"] = not active or any(e in model.exits for e in window)
        for c in model.covariates:
            where = Where(c.test, c.value, True) if c.property and c.test else None
            out[f"covariate_{c.name}"] = any(
                e == c.event
                and t <= anchor
                and (where is None or where.passes(props.get(c.property or "")))
                for t, e, props in events
            )
    revenue = world.plan.revenue
    if revenue is not None:
        for key, sources in (("revenue", revenue.events), ("refunds", revenue.refunds)):
            values = {s.event: s.value for s in sources}
            out[key] = round(
                sum(
                    float(props.get(values[e]) or 0)
                    for _, e, props in events
                    if e in values and isinstance(props.get(values[e]), int | float)
                ),
                2,
            )
    return out


def write_truth(path: Path, names: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    if truth_format(path) == "jsonl":
        with path.open("wb") as f:
            for row in rows:
                f.write(orjson.dumps(row) + b"\n")
                count += 1
        return count
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, list(names), lineterminator="\n")
        out.writeheader()
        for row in rows:
            out.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    return count
