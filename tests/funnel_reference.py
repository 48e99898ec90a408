"""A plain-Python reading of the funnel definition, to check the SQL against (differential test).

Written from the definition, not from the SQL: group events by person (person_id, else the
distinct_id stitched through $identify / $create_alias), then walk each person's events in time
order to find t_k = the earliest S_k event at or after t_(k-1).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

from funnel_people import Row


def persons(rows: list[Row]) -> dict[str, str]:
    """distinct_id -> person for rows without person_id (up to two hops, like the SQL)."""
    links: dict[str, set[str]] = defaultdict(set)
    for _uid, event, did, _ts, _pid, props in rows:
        p = json.loads(props)
        src = p.get("$anon_distinct_id") if event == "$identify" else None
        src = p.get("alias") if event == "$create_alias" else src
        if src and src != did:
            links[src].add(did)
    hop = {k: min(v) for k, v in links.items()}
    return {d: hop.get(hop.get(d, d), hop.get(d, d)) for _u, _e, d, *_ in rows}


def events_by_person(rows: list[Row]) -> dict[str, list[tuple[datetime, str]]]:
    mapping = persons(rows)
    out: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for _uid, event, did, ts, pid, _props in rows:
        out[pid or mapping[did]].append((ts, event))
    for events in out.values():
        events.sort()
    return out


def reached_counts(rows: list[Row], chain: list[str], window: timedelta | None = None) -> list[int]:
    """Persons reaching each state of `chain` (a list of event names)."""
    counts = [0] * len(chain)
    for events in events_by_person(rows).values():
        starts = [ts for ts, e in events if e == chain[0]]
        if not starts:
            continue
        t = t0 = starts[0]
        counts[0] += 1
        for k, name in enumerate(chain[1:], start=1):
            later = [ts for ts, e in events if e == name and ts >= t]
            if window is not None:
                later = [ts for ts in later if ts <= t0 + window]
            if not later:
                break
            t = later[0]
            counts[k] += 1
    return counts


# --- per-person readings of the churn, hazard and revenue definitions -------------------------

Event = tuple[datetime, str, dict]  # (time, event, properties)
DAY = timedelta(days=1)


def person_events(rows: list[Row]) -> dict[str, list[Event]]:
    """Each person's events with their properties, in time order."""
    mapping = persons(rows)
    out: dict[str, list[Event]] = defaultdict(list)
    for _uid, event, did, ts, pid, props in rows:
        out[pid or mapping[did]].append((ts, event, json.loads(props)))
    for events in out.values():
        events.sort(key=lambda e: (e[0], e[1]))
    return out


def reach_times(events: list[Event], chain: list[str]) -> list[datetime | None]:
    """t_k for each chain state (None once the person stops), per the definition."""
    times: list[datetime | None] = [None] * len(chain)
    starts = [ts for ts, e, _ in events if e == chain[0]]
    if not starts:
        return times
    times[0] = t = starts[0]
    for k, name in enumerate(chain[1:], start=1):
        later = [ts for ts, e, _ in events if e == name and ts >= t]
        if not later:
            break
        times[k] = t = later[0]
    return times


def as_of(rows: list[Row]) -> datetime:
    return max(r[3] for r in rows)


def matches(props: dict, prop: str | None, test: str | None, value: object) -> bool:
    """Does an event's property pass a where test (no property: always)."""
    if prop is None:
        return True
    got = props.get(prop)
    if got is None:
        return False
    if test == "above":
        return float(got) > float(value)  # type: ignore[arg-type]
    if test == "below":
        return float(got) < float(value)  # type: ignore[arg-type]
    values = value if isinstance(value, list | tuple) else [value]
    return got in values


def one_off_churn(
    rows: list[Row],
    classes: list[tuple[str, str | None, tuple]],
    activity: set[str],
    windows: list[int],
) -> dict[int, tuple[int, int]]:
    """{X: (churned, observed)}: p = first one-off purchase; observed when p + X <= as_of;
    churned when no activity event and no further one-off purchase in (p, p + X]."""
    end = as_of(rows)

    def one_off(event: str, props: dict) -> bool:
        return any(e == event and matches(props, p, "equals", v) for e, p, v in classes)

    out = {x: [0, 0] for x in windows}
    for events in person_events(rows).values():
        firsts = [ts for ts, e, props in events if one_off(e, props)]
        if not firsts:
            continue
        p = firsts[0]
        for x in windows:
            if p + x * DAY > end:
                continue
            out[x][1] += 1
            active = any(
                p < ts <= p + x * DAY and (e in activity or one_off(e, props))
                for ts, e, props in events
            )
            out[x][0] += not active
    return {x: (c, n) for x, (c, n) in out.items()}


def hazard_cells(
    rows: list[Row],
    chain: list[str],
    at_risk: int,
    anchor: int,
    covariates: list[tuple[str, str | None, str | None, object]],
    activity: set[str],
    cancels: set[str],
    window_days: int,
) -> dict[tuple[bool, ...], tuple[int, int, int]]:
    """{covariate flags: (persons at risk, observed, churned)} per the hazard's definition."""
    end = as_of(rows)
    out: dict[tuple[bool, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for events in person_events(rows).values():
        times = reach_times(events, chain)
        if times[at_risk] is None:
            continue
        t = times[anchor] or times[at_risk]
        assert t is not None
        flags = tuple(
            any(
                e == ev and ts <= t and matches(props, prop, test, value) for ts, e, props in events
            )
            for ev, prop, test, value in covariates
        )
        cell = out[flags]
        cell[0] += 1
        if t + window_days * DAY > end:
            continue
        cell[1] += 1
        window = [(ts, e) for ts, e, _ in events if t < ts <= t + window_days * DAY]
        gone = not any(e in activity for _, e in window) or any(e in cancels for _, e in window)
        cell[2] += gone
    return {k: (a, b, c) for k, (a, b, c) in out.items()}


def revenue(
    rows: list[Row],
    sources: list[tuple[str, str, str]],
    refunds: list[tuple[str, str, str]],
    first_event: str,
) -> tuple[dict[str, dict[str, float]], int]:
    """({currency: gross, refunds, events, refund_events, payers, missing}, entrants)."""
    out: dict[str, dict[str, float]] = defaultdict(
        lambda: dict.fromkeys(("gross", "refunds", "events", "refund_events", "missing"), 0.0)
    )
    payers: dict[str, set[str]] = defaultdict(set)
    entrants = 0
    for person, events in person_events(rows).items():
        entrants += any(e == first_event for _, e, _ in events)
        for _ts, e, props in events:
            for kind, listed in (("gross", sources), ("refunds", refunds)):
                for event, value, currency in listed:
                    if e != event:
                        continue
                    cur = props.get(currency) or ""
                    amount = props.get(value)
                    row = out[cur]
                    row["events" if kind == "gross" else "refund_events"] += 1
                    if amount is None:
                        row["missing"] += 1
                    else:
                        row[kind] += float(amount)
                    if kind == "gross":
                        payers[cur].add(person)
    for cur, row in out.items():
        row["payers"] = len(payers[cur])
    return dict(out), entrants


def rule_state(
    rows: list[Row],
    chain: list[str],
    population: int,
    kind: str,
    events: set[str],
    or_events: set[str],
    days: int,
) -> tuple[int, int]:
    """(reached, observed) for a rule state judged per person from t_population."""
    end = as_of(rows)
    reached = observed = 0
    for evs in person_events(rows).values():
        t = reach_times(evs, chain)[population]
        if t is None or t + days * DAY > end:
            continue
        observed += 1
        window = [e for ts, e, _ in evs if t < ts <= t + days * DAY]
        if kind == "active_within":
            reached += any(e in events for e in window)
        else:
            active = events | {chain[population]}
            reached += not any(e in active for e in window) or any(e in or_events for e in window)
    return reached, observed
