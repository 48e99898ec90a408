"""What the doc site's health sections measure from the exports themselves, beyond the audit.

`profile(con, plan, source)` reads the `events` view `compiler.exports.open_events` puts on a
DuckDB connection (every row with its distinct_id, person_id, timestamp and properties: read
without the audit's screen) and returns a `Profile`: per plan event its rows, distinct persons
(keyed as `trackplan rates` keys them: the funnel queries' shared `ev` CTE, person_id when set,
else the person stitched from $identify / $create_alias), rows per UTC day over the export's
whole range, and per property of the event the share of rows where it is absent and where it is
JSON null; plus the observed funnel transition rates (`compiler.funnel.rates.compute`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from compiler.funnel import dialects
from compiler.funnel.builder import Context, Query, render
from compiler.funnel.fragments import base, in_list
from compiler.funnel.intervals import Proportion
from compiler.funnel.rates import compute
from compiler.plan.model import Plan
from compiler.report.view import transition_label

SPARK_W, SPARK_H, SPARK_PAD = 240, 48, 3


@dataclass(frozen=True)
class PropertyFill:
    """How often one property of an event is missing: absent (no key) or JSON null."""

    name: str
    required: bool
    rows: int
    absent: int
    null: int

    @property
    def absent_share(self) -> float | None:
        return self.absent / self.rows if self.rows else None

    @property
    def null_share(self) -> float | None:
        return self.null / self.rows if self.rows else None


@dataclass(frozen=True)
class Sparkline:
    """Rows per UTC day as an SVG polyline, laid out here; the template only draws it."""

    points: str  # "x,y x,y ..." in a SPARK_W x SPARK_H box
    width: int
    height: int
    label: str  # what a screen reader hears: days, range, min, max


@dataclass(frozen=True)
class EventProfile:
    event: str
    rows: int
    persons: int
    daily: tuple[tuple[str, int], ...]  # (YYYY-MM-DD, rows), every day of the export's range
    properties: tuple[PropertyFill, ...]  # in plan order

    @property
    def sparkline(self) -> Sparkline | None:
        return sparkline(self.daily) if self.daily else None


@dataclass(frozen=True)
class Transition:
    """One funnel step as the plan defaults it and as the exports show it."""

    name: str  # TO|FROM
    label: str  # "From → To" in state names
    default: float | None
    default_note: str  # shown instead of a default: "fit" (learned by fit), "–" (no transition)
    observed: Proportion


@dataclass(frozen=True)
class Profile:
    rows: int
    persons: int
    days: int
    events: Mapping[str, EventProfile]
    transitions: tuple[Transition, ...]  # as `rates` orders them; empty without funnel states

    def for_event(self, name: str) -> EventProfile:
        return self.events.get(name) or EventProfile(name, 0, 0, (), ())


def sparkline(daily: tuple[tuple[str, int], ...]) -> Sparkline:
    top = max(n for _, n in daily) or 1
    step = (SPARK_W - 2 * SPARK_PAD) / max(len(daily) - 1, 1)
    span = SPARK_H - 2 * SPARK_PAD
    points = " ".join(
        f"{SPARK_PAD + i * step:.1f},{SPARK_PAD + span * (1 - n / top):.1f}"
        for i, (_, n) in enumerate(daily)
    )
    if len(daily) == 1:  # one day: a flat line across, not a dot
        points += f" {SPARK_W - SPARK_PAD:.1f},{SPARK_PAD + span * (1 - daily[0][1] / top):.1f}"
    counts = [n for _, n in daily]
    days = f"{len(daily)} day{'' if len(daily) == 1 else 's'}"
    label = (
        f"Rows per day over {days}, {daily[0][0]} to {daily[-1][0]} (UTC): "
        f"fewest {min(counts):,}, most {max(counts):,}"
    )
    return Sparkline(points, SPARK_W, SPARK_H, label)


def _json_path(name: str) -> str:
    return dialects.quote(dialects.json_path(name))


def _volume(con: Any, plan: Plan) -> list[tuple[Any, ...]]:
    """(grouping, event, day, rows, persons) per event, per event and day, and overall."""
    d = dialects.get("duckdb")
    body = f"""
SELECT grouping(event, day) AS level, event, day, count(*) AS n, count(DISTINCT person) AS persons
FROM (SELECT event, CAST(ts AS DATE) AS day, person FROM ev WHERE event IN {in_list(tuple(plan.events))})
GROUP BY GROUPING SETS ((), (event), (event, day))"""
    query = Query(
        "event_profile",
        "rows and distinct persons per plan event, and rows per event per UTC day",
        ("level", "event", "day", "n", "persons"),
        tuple(base(Context(plan, d))),
        body,
    )
    return [tuple(r) for r in con.execute(render(query, d)).fetchall()]


def _fills(con: Any, plan: Plan) -> dict[tuple[str, str], tuple[int, int]]:
    """{(event, property): (rows absent, rows JSON null)} in one pass over the plan's events."""
    names = list(dict.fromkeys(ep.name for e in plan.events.values() for ep in e.properties))
    if not names:
        return {}
    columns = ",\n    ".join(
        f"count_if(json_type(properties, {_json_path(n)}) IS NULL) AS a{i},\n    "
        f"count_if(coalesce(json_type(properties, {_json_path(n)}) = 'NULL', false)) AS n{i}"
        for i, n in enumerate(names)
    )
    sql = (
        f"SELECT event,\n    {columns}\nFROM events\n"
        f"WHERE event IN {in_list(tuple(plan.events))}\nGROUP BY event"
    )
    out = {}
    for event, *counts in con.execute(sql).fetchall():
        for i, n in enumerate(names):
            out[(str(event), n)] = (int(counts[2 * i]), int(counts[2 * i + 1]))
    return out


def _days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _transitions(con: Any, plan: Plan) -> tuple[Transition, ...]:
    """Every step `trackplan rates` measures (chain steps, then rule states such as churn)."""
    if not plan.states:
        return ()
    defaults = {t.name: t for t in plan.transitions}
    out = []
    for key, observed in compute(con, plan, None, fit_only=True).transitions.items():
        planned = defaults.get(key)
        note = "–" if planned is None else "fit" if planned.rate is None else ""
        rate = planned.rate if planned else None
        out.append(Transition(key, transition_label(plan, key), rate, note, observed))
    return tuple(out)


def profile(con: Any, plan: Plan) -> Profile:
    """The profile of the exports in the `events` view on `con` (a DuckDB connection)."""
    rows, persons = 0, 0
    totals: dict[str, tuple[int, int]] = {}
    per_day: dict[str, dict[date, int]] = {}
    for level, event, day, n, people in _volume(con, plan):
        if level == 3:
            rows, persons = int(n), int(people)
        elif level == 1:
            totals[str(event)] = (int(n), int(people))
        else:
            per_day.setdefault(str(event), {})[day] = int(n)
    seen_days = [day for days in per_day.values() for day in days]
    calendar = _days(min(seen_days), max(seen_days)) if seen_days else []
    fills = _fills(con, plan)
    events = {}
    for name, (n, people) in sorted(totals.items()):
        counts = {d.isoformat(): c for d, c in per_day.get(name, {}).items()}
        props = tuple(
            PropertyFill(ep.name, ep.required, n, *fills.get((name, ep.name), (0, 0)))
            for ep in plan.events[name].properties
        )
        events[name] = EventProfile(
            name, n, people, tuple((d, counts.get(d, 0)) for d in calendar), props
        )
    return Profile(rows, persons, len(calendar), events, _transitions(con, plan))
