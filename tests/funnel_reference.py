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
