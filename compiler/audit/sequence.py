"""Cross-row checks: the plan's sequence rules and identity rules, per person.

A person is `person_id` when the export has it; otherwise distinct ids are stitched the way
PostHog does: `$identify` links `$anon_distinct_id` to the identified `distinct_id`, and
`$create_alias` links `properties.alias` and `distinct_id`. Each link points the other id at
the one with the plan's user prefix (or the identified/alias side), the smallest when several.

- sequence_violation: a rule's event with no earlier-or-equal `requires_before` event for the
  same person (or the same `match_on` property value, such as an order id), one per row.
- identity_violation (the user id field): a plan event after the person's first `stitch_on`
  event without a non-null user id (the envelope field with the role user_id; no such check
  when the plan has none).
- identity_violation (no property): a `stitch_on` event whose ids were never stitched: no link
  names its distinct_id or user id, and (with person_id) the person has no anonymous row.

`$anon_distinct_id`, `distinct_id` and `alias` inside the properties of `$identify` and
`$create_alias` are PostHog's own names, not the plan's.

Both engines implement exactly this: `duck_violations` in SQL, `python_violations` row by row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from compiler.audit.findings import EXAMPLES, Finding
from compiler.audit.rules import AuditRules
from compiler.funnel.dialects import json_path, quote

VIOLATIONS = "_trackplan_audit_sequence"


# The rows a cross-row check reads, and with their person. Inlined where used, each behind its
# own filter on the event: as CTEs, DuckDB pushed the OR of every user's filter into each
# scan (measured: 0.8 s a scan on a million rows).
def _kept(view: str) -> str:
    """The rows of `view` (`events`, or a screened read's) that a cross-row check reads."""
    return f"""(SELECT event, timestamp, _file, _row, uuid, distinct_id, person_id, properties
  FROM {view} WHERE coalesce(_seq, true))"""


def _seq(view: str) -> str:
    """The kept rows with their person."""
    return f"""(SELECT e.*, coalesce(e.person_id, m.target, e.distinct_id) AS person
  FROM {_kept(view)} e LEFT JOIN idmap m ON e.distinct_id = m.other)"""


def _key(match_on: str) -> str:
    """SQL: a row's match_on value as text (NULL when absent or null)."""
    return f"(json_extract(properties, {quote(json_path(match_on))}) ->> '$')"


def _user(rules: AuditRules) -> str:
    """SQL: the row's user id as JSON (a path no JSON key spells when the plan has none)."""
    path = json_path(rules.user_key) if rules.user_key is not None else "$[-1]"
    return f"json_extract(properties, {quote(path)})"


def _no_user(rules: AuditRules) -> str:
    """SQL: the row has no user id or a null one. Text with neither a backslash (so no escaped
    key) nor the quoted key lacks the key: nothing is parsed."""
    if rules.user_key is None:
        return "true"
    key = quote(f'"{rules.user_key}"')
    return (
        f"(NOT contains(properties, {key}) AND NOT contains(properties, '\\') "
        f"OR coalesce(json_type({_user(rules)}), 'NULL') = 'NULL')"
    )


def _user_check(rules: AuditRules) -> bool:
    identity = rules.plan.identity
    return (
        identity is not None
        and identity.user_id_required_after_stitch
        and rules.user_name is not None
    )


def _person_firsts(rules: AuditRules) -> list[str]:
    """The events whose first time per person a check reads."""
    events = {
        needed
        for rule in rules.plan.sequence_rules.values()
        if rule.match_on == "person"
        for needed in rule.requires_before
    }
    identity = rules.plan.identity
    if identity is not None and _user_check(rules):
        events.add(identity.stitch_on)
    return sorted(events)


def _links_sql(rules: AuditRules, view: str) -> str:
    """The CTEs: the id links, the person of each linked id (`idmap`), the ids any link names
    (`linked`), and the first time of each event a check waits for, per person or per match_on
    value (`firsts`; its `space` is 0 for persons, n for the n-th keyed rule).

    No row is copied: each check reads `_kept` through its own filter on the event. (The rows
    materialized once cost more than all the checks together on realistic rows, most of them
    anonymous rows of plan events read for one user id test.)"""
    prefix = quote(rules.plan.identity.user_prefix if rules.plan.identity else "")
    firsts = ["SELECT NULL::INTEGER, NULL::VARCHAR, NULL::VARCHAR, NULL::TIMESTAMPTZ WHERE false"]
    person = _person_firsts(rules)
    if person:
        firsts.append(
            "SELECT 0, event, person, min(timestamp) FROM "
            f"{_seq(view)} "
            f"WHERE event IN ({', '.join(quote(e) for e in person)}) AND person IS NOT NULL "
            "GROUP BY ALL"
        )
    for space, rule in enumerate(rules.keyed_rules, 1):
        needed = ", ".join(quote(e) for e in rule.requires_before)
        firsts.append(
            f"SELECT {space}, event, k, min(timestamp) FROM "
            f"(SELECT event, timestamp, {_key(rule.match_on)} AS k FROM {_kept(view)} "
            f"WHERE event IN ({needed})) WHERE k IS NOT NULL GROUP BY ALL"
        )
    return f"""
links AS (
  SELECT json_extract_string(properties, '$."$anon_distinct_id"') AS a,
         coalesce(distinct_id, json_extract_string(properties, '$.distinct_id')) AS b
  FROM {view} WHERE event = '$identify'
  UNION ALL
  SELECT distinct_id, json_extract_string(properties, '$.alias')
  FROM {view} WHERE event = '$create_alias'
), pairs AS (
  SELECT CASE WHEN NOT starts_with(b, {prefix}) AND starts_with(a, {prefix}) THEN b ELSE a END
             AS other,
         CASE WHEN NOT starts_with(b, {prefix}) AND starts_with(a, {prefix}) THEN a ELSE b END
             AS target
  FROM links WHERE a IS NOT NULL AND b IS NOT NULL AND a <> b
), idmap AS MATERIALIZED (SELECT other, min(target) AS target FROM pairs GROUP BY other),
linked AS MATERIALIZED (
  SELECT a AS id FROM links WHERE a IS NOT NULL AND b IS NOT NULL AND a <> b
  UNION SELECT b FROM links WHERE a IS NOT NULL AND b IS NOT NULL AND a <> b),
firsts(space, event, k, first_at) AS MATERIALIZED ({" UNION ALL ".join(firsts)})"""


def _rule_sql(rules: AuditRules, view: str) -> list[str]:
    """One part per rule: a row of its events lacking any earlier-or-equal needed event."""
    out = []
    for rule in rules.plan.sequence_rules.values():
        events = ", ".join(quote(e) for e in rule.events)
        space = 0 if rule.match_on == "person" else 1 + rules.keyed_rules.index(rule)
        rows = (
            f"(SELECT *, person AS k FROM {_seq(view)} WHERE event IN ({events}))"
            if rule.match_on == "person"
            else f"(SELECT *, {_key(rule.match_on)} AS k FROM {_kept(view)} WHERE event IN ({events}))"
        )
        joins = "".join(
            f"\n  LEFT JOIN firsts p{n} ON p{n}.space = {space} "
            f"AND p{n}.event = {quote(needed)} AND p{n}.k = r.k"
            for n, needed in enumerate(rule.requires_before)
        )
        late = " OR ".join(
            f"p{n}.first_at IS NULL OR p{n}.first_at > r.timestamp"
            for n in range(len(rule.requires_before))
        )
        out.append(f"""
  SELECT r._file, r._row, r.uuid, r.event, 'sequence_violation', NULL::VARCHAR
  FROM {rows} r{joins}
  WHERE r.k IS NOT NULL AND ({late or 'false'})""")
    return out


def duck_violations(
    con: duckdb.DuckDBPyConnection, rules: AuditRules, view: str = "events"
) -> list[Finding]:
    """Run the cross-row checks in DuckDB; violating rows land in the temp table VIOLATIONS."""
    identity = rules.plan.identity
    parts = _rule_sql(rules, view)
    if identity is not None:
        login = quote(identity.stitch_on)
        known = ", ".join(quote(e) for e in sorted(rules.plan.events))
        anon = quote(identity.anonymous_prefix)
        if _user_check(rules):
            parts.append(f"""
  SELECT r._file, r._row, r.uuid, r.event, 'identity_violation', {quote(rules.user_name or "")}
  FROM {_seq(view)} r JOIN firsts l ON l.space = 0 AND l.event = {login} AND l.k = r.person
  WHERE r.event IN ({known}) AND r.timestamp > l.first_at
    AND CASE WHEN r.timestamp > l.first_at THEN {_no_user(rules)} END""")
        parts.append(f"""
  SELECT r._file, r._row, r.uuid, r.event, 'identity_violation', NULL
  FROM {_kept(view)} r WHERE r.event = {login}
    AND r.distinct_id NOT IN (SELECT id FROM linked)
    AND coalesce({_user(rules)} ->> '$', '') NOT IN (SELECT id FROM linked)
    AND NOT (r.person_id IS NOT NULL AND r.person_id IN
             (SELECT person_id FROM {_kept(view)} WHERE starts_with(distinct_id, {anon})
              AND person_id IS NOT NULL))""")
    body = (
        " UNION ALL\n".join(parts)
        if parts
        else "SELECT NULL, NULL, NULL, NULL, NULL, NULL::VARCHAR WHERE false"
    )
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {VIOLATIONS} AS
WITH {_links_sql(rules, view)}
SELECT DISTINCT _file, _row, coalesce(uuid, _file || ':' || _row) AS ex, event, kind, property
FROM ({body}) v(_file, _row, uuid, event, kind, property)""")
    return [
        Finding(str(kind), str(event), prop, int(count), list(examples))
        for kind, event, prop, count, examples in con.execute(f"""
            SELECT kind, event, property, count(*), min(ex, {EXAMPLES})
            FROM {VIOLATIONS} GROUP BY ALL""").fetchall()
    ]


@dataclass
class Row:
    event: str
    timestamp: datetime | None
    file: str
    row: int
    ex: str
    distinct_id: str | None
    person_id: str | None
    properties: dict[str, Any]


def _person_map(rows: list[Row], user_prefix: str) -> tuple[dict[str, str], set[str]]:
    targets: dict[str, list[str]] = defaultdict(list)
    linked: set[str] = set()
    for r in rows:
        if r.event == "$identify":
            a, b = r.properties.get("$anon_distinct_id"), r.distinct_id or r.properties.get(
                "distinct_id"
            )
        elif r.event == "$create_alias":
            a, b = r.distinct_id, r.properties.get("alias")
        else:
            continue
        a, b = (None if x is None else str(x) for x in (a, b))
        if a is None or b is None or a == b:
            continue
        linked |= {a, b}
        if not b.startswith(user_prefix) and a.startswith(user_prefix):
            a, b = b, a
        targets[a].append(b)
    return {k: min(v) for k, v in targets.items()}, linked


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return json_text(value)


def json_text(value: Any) -> str:
    """What DuckDB's json_extract_string gives for a JSON value."""
    import json

    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def python_violations(rows: list[Row], rules: AuditRules) -> Iterable[tuple[Row, str, str | None]]:
    """The same cross-row checks, row by row: (row, kind, property) per violation."""
    identity = rules.plan.identity
    idmap, linked = _person_map(rows, identity.user_prefix if identity else "")
    person = {id(r): r.person_id or idmap.get(r.distinct_id or "", r.distinct_id) for r in rows}
    out: set[tuple[int, str, str | None]] = set()
    for rule in rules.plan.sequence_rules.values():

        def key(r: Row, match_on: str = rule.match_on) -> str | None:
            return person[id(r)] if match_on == "person" else _text(r.properties.get(match_on))

        for needed in rule.requires_before:
            first: dict[str, datetime] = {}
            for r in rows:
                k = key(r)
                if r.event == needed and k is not None and r.timestamp is not None:
                    first[k] = min(first.get(k, r.timestamp), r.timestamp)
            for r in rows:
                k = key(r)
                if r.event in rule.events and k is not None:
                    at = first.get(k)
                    if at is None or (r.timestamp is not None and at > r.timestamp):
                        out.add((id(r), "sequence_violation", None))
    if identity is not None:
        logins: dict[str, datetime] = {}
        for r in rows:
            p = person[id(r)]
            if r.event == identity.stitch_on and r.timestamp is not None and p is not None:
                logins[p] = min(logins.get(p, r.timestamp), r.timestamp)
        anon_persons = {
            r.person_id
            for r in rows
            if r.person_id and r.distinct_id and r.distinct_id.startswith(identity.anonymous_prefix)
        }
        user_key, user_name = rules.user_key, rules.user_name
        for r in rows:
            p = person[id(r)]
            if (
                identity.user_id_required_after_stitch
                and user_key is not None
                and r.event in rules.plan.events
            ):
                at = logins.get(p) if p is not None else None
                late = at is not None and r.timestamp is not None and r.timestamp > at
                if late and r.properties.get(user_key) is None:
                    out.add((id(r), "identity_violation", user_name))
            if r.event == identity.stitch_on and r.distinct_id is not None:
                value = r.properties.get(user_key) if user_key is not None else None
                user = _text(value) or ""
                stitched = r.distinct_id in linked or user in linked
                if not stitched and not (r.person_id is not None and r.person_id in anon_persons):
                    out.add((id(r), "identity_violation", None))
    by_id = {id(r): r for r in rows}
    return [
        (by_id[i], kind, prop)
        for i, kind, prop in sorted(
            out, key=lambda t: (by_id[t[0]].file, by_id[t[0]].row, t[1], t[2] or "")
        )
    ]


def group(violations: Iterable[tuple[Row, str, str | None]]) -> list[Finding]:
    grouped: dict[tuple[str, str, str | None], list[str]] = defaultdict(list)
    for r, kind, prop in violations:
        grouped[(kind, r.event, prop)].append(r.ex)
    return [
        Finding(kind, event, prop, len(exs), sorted(exs)[:EXAMPLES])
        for (kind, event, prop), exs in grouped.items()
    ]
