"""Profile the `events` view (see `compiler.exports.open_events`) in DuckDB SQL, into typed results.

One pass flattens every row's top-level properties into a temp table `infer_kv` (event, key,
effective JSON type, string value, numeric value, array text); every statistic below is an
aggregate over it. No row ever reaches Python: only per-event and per-property aggregates and
the values of low-cardinality strings do.

Rows of text-only exports (the UI CSV: every value arrives as a string) are typed as the audit
reads them: `-?[0-9]+` is an integer, a number literal a number, `true`/`false` a boolean, a
JSON array an array.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from compiler.audit.rules import EMAIL_LIKE, INTEGER_TEXT, NUMBER_TEXT, PHONE_LIKE

LIB = "$lib"


@dataclass
class PropertyProfile:
    """What one property key looked like across the non-system events carrying it."""

    name: str
    rows: int = 0  # rows carrying the key, null or not
    types: dict[str, int] = field(default_factory=dict)  # DuckDB json_type -> rows
    minimum: float | None = None
    maximum: float | None = None
    fractional: int = 0  # numeric values that are not whole numbers
    distinct: int = 0  # distinct string values
    values: list[tuple[str, int]] | None = None  # each string value and its rows, when few
    item_types: dict[str, int] = field(default_factory=dict)  # array items' json_type -> count
    item_distinct: int = 0
    item_values: list[tuple[str, int]] | None = None
    emails: int = 0  # string values shaped like an email address (all events)
    phones: int = 0  # string values shaped like a phone number (all events)

    @property
    def nulls(self) -> int:
        return self.types.get("NULL", 0)


@dataclass
class EventProfile:
    name: str
    rows: int
    libs: dict[str, int] = field(default_factory=dict)  # $lib value ('' when absent) -> rows
    presence: dict[str, int] = field(default_factory=dict)  # property -> rows carrying it


@dataclass
class Profile:
    rows: int  # rows read, system events included
    events: dict[str, EventProfile]  # the non-system events, most rows first
    system: dict[str, int]  # $-prefixed events skipped -> rows
    properties: dict[str, PropertyProfile]  # by name
    system_only_pii: list[str] = field(default_factory=list)  # pii keys seen only on $-events


def _type_sql(text: str) -> str:
    """SQL: the effective JSON type of value `v` (raw string `s`) on a row of a text export."""
    return (
        f"CASE WHEN NOT {text} OR json_type(v) <> 'VARCHAR' THEN json_type(v) "
        f"WHEN regexp_matches(s, '{INTEGER_TEXT}') THEN 'BIGINT' "
        f"WHEN regexp_matches(s, '{NUMBER_TEXT}') AND isfinite(TRY_CAST(s AS DOUBLE)) "
        "THEN 'DOUBLE' WHEN s IN ('true', 'false') THEN 'BOOLEAN' "
        "WHEN left(s, 1) = '[' AND json_valid(s) THEN 'ARRAY' ELSE 'VARCHAR' END"
    )


def _flatten(con: duckdb.DuckDBPyConnection, text_files: list[str]) -> None:
    text = "_file IN (" + ", ".join("?" for _ in text_files) + ")" if text_files else "false"
    con.execute(
        f"""
CREATE OR REPLACE TEMP TABLE infer_kv AS
WITH pairs AS (
  SELECT event, starts_with(event, '$') AS sys, {text} AS txt,
    unnest(json_keys(properties)) AS k, unnest(json_extract(properties, '$.*')) AS v
  FROM events WHERE event IS NOT NULL AND properties IS NOT NULL
), raw AS (
  SELECT *, CASE WHEN json_type(v) = 'VARCHAR' THEN v ->> '$' END AS s
  FROM pairs WHERE NOT starts_with(k, '$') OR k = '{LIB}'
), typed AS (SELECT *, {_type_sql('txt')} AS t FROM raw)
SELECT event, sys, k, t, s,
  CASE WHEN t IN ('BIGINT', 'UBIGINT', 'DOUBLE')
       THEN TRY_CAST(CASE WHEN json_type(v) = 'VARCHAR' THEN s ELSE v::VARCHAR END AS DOUBLE)
  END AS d,
  CASE WHEN t = 'ARRAY' THEN coalesce(s, v::VARCHAR) END AS a
FROM typed""",
        list(text_files),
    )


def _events(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, EventProfile], dict[str, int]]:
    counts = con.execute(
        "SELECT event, count(*) FROM events WHERE event IS NOT NULL GROUP BY event "
        "ORDER BY count(*) DESC, event"
    ).fetchall()
    system = {str(e): int(n) for e, n in counts if str(e).startswith("$")}
    events = {str(e): EventProfile(str(e), int(n)) for e, n in counts if not str(e).startswith("$")}
    for event, k, n in con.execute(
        f"SELECT event, k, count(*) FROM infer_kv WHERE NOT sys AND k <> '{LIB}' "
        "GROUP BY event, k ORDER BY event, k"
    ).fetchall():
        events[str(event)].presence[str(k)] = int(n)
    for event, lib, n in con.execute(
        f"SELECT event, coalesce(s, ''), count(*) FROM infer_kv WHERE NOT sys AND k = '{LIB}' "
        "GROUP BY ALL ORDER BY 3 DESC, 2"
    ).fetchall():
        events[str(event)].libs[str(lib)] = int(n)
    for profile in events.values():
        missing = profile.rows - sum(profile.libs.values())
        if missing:
            profile.libs[""] = missing
    return events, system


def _values(
    con: duckdb.DuckDBPyConnection, source: str, enum_max: int
) -> dict[str, list[tuple[str, int]]]:
    """Each key's string values and their rows, for keys with at most `enum_max` of them."""
    out: dict[str, list[tuple[str, int]]] = {}
    for k, s, n in con.execute(
        f"""
WITH src AS ({source}),
few AS (SELECT k FROM src GROUP BY k HAVING count(DISTINCT s) <= ?)
SELECT k, s, count(*) FROM src WHERE k IN (SELECT k FROM few) GROUP BY k, s ORDER BY k, 3 DESC, s""",
        [enum_max],
    ).fetchall():
        out.setdefault(str(k), []).append((str(s), int(n)))
    return out


def _properties(con: duckdb.DuckDBPyConnection, enum_max: int) -> dict[str, PropertyProfile]:
    props: dict[str, PropertyProfile] = {}
    where = f"NOT sys AND k <> '{LIB}'"
    for k, rows, lo, hi, frac, distinct in con.execute(
        f"SELECT k, count(*), min(d), max(d), count(*) FILTER (WHERE d <> floor(d)), "
        f"count(DISTINCT s) FILTER (WHERE t = 'VARCHAR') FROM infer_kv WHERE {where} "
        "GROUP BY k ORDER BY k"
    ).fetchall():
        props[str(k)] = PropertyProfile(
            str(k), int(rows), {}, lo, hi, int(frac), int(distinct or 0)
        )
    for k, t, n in con.execute(
        f"SELECT k, t, count(*) FROM infer_kv WHERE {where} GROUP BY k, t ORDER BY k, 3 DESC"
    ).fetchall():
        props[str(k)].types[str(t)] = int(n)
    strings = f"SELECT k, s FROM infer_kv WHERE {where} AND t = 'VARCHAR'"
    for k, values in _values(con, strings, enum_max).items():
        props[k].values = values
    items = (
        "SELECT k, x, json_type(x) AS it, x ->> '$' AS xs FROM "
        f"(SELECT k, unnest(json_extract(a, '$[*]')) AS x FROM infer_kv WHERE {where} "
        "AND a IS NOT NULL)"
    )
    for k, it, n, distinct in con.execute(
        f"SELECT k, it, count(*), count(DISTINCT xs) FROM ({items}) GROUP BY k, it ORDER BY k, 3 DESC"
    ).fetchall():
        props[str(k)].item_types[str(it)] = int(n)
        if it == "VARCHAR":
            props[str(k)].item_distinct = int(distinct)
    item_strings = f"SELECT k, xs AS s FROM ({items}) WHERE it = 'VARCHAR'"
    for k, values in _values(con, item_strings, enum_max).items():
        props[k].item_values = values
    return props


def _pii(con: duckdb.DuckDBPyConnection, props: dict[str, PropertyProfile]) -> list[str]:
    """Count email- and phone-shaped values per key, on every event (the audit's `pii_leak`
    looks at system events too, with these same patterns); return keys seen only on $-events."""
    system_only = []
    for k, emails, phones in con.execute(
        f"""SELECT k, count(*) FILTER (WHERE contains(s, '@') AND regexp_matches(s, ?)),
  count(*) FILTER (WHERE regexp_matches(s, ?))
FROM infer_kv WHERE s IS NOT NULL AND k <> '{LIB}' GROUP BY k
HAVING count(*) FILTER (WHERE contains(s, '@') AND regexp_matches(s, ?)) > 0
    OR count(*) FILTER (WHERE regexp_matches(s, ?)) > 0 ORDER BY k""",
        [EMAIL_LIKE, PHONE_LIKE, EMAIL_LIKE, PHONE_LIKE],
    ).fetchall():
        if str(k) in props:
            props[str(k)].emails, props[str(k)].phones = int(emails), int(phones)
        else:
            system_only.append(str(k))
    return system_only


def profile_events(con: duckdb.DuckDBPyConnection, text_files: list[str], enum_max: int) -> Profile:
    """Profile the `events` view already opened on `con`."""
    _flatten(con, text_files)
    events, system = _events(con)
    props = _properties(con, enum_max)
    system_only = _pii(con, props)
    rows = sum(e.rows for e in events.values()) + sum(system.values())
    con.execute("DROP TABLE IF EXISTS infer_kv")
    return Profile(rows, events, system, props, system_only)
