"""JSON text as RFC 8259 reads it, in PostHog's shape.

DuckDB's JSON functions accept NaN, Infinity and trailing commas and keep the first of
duplicate keys; RFC 8259 (and every other engine here) rejects the first three and keeps the
last. The readers find the few lines where that could matter in SQL (`needs_normalizing`,
`top_conflict`) and re-read only those in Python (`normalize`, registered as a DuckDB function).
Canonical §10 rows carry envelope fields at the top level that PostHog keeps inside
`properties` (CANONICAL_TOP); they are moved inside.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import duckdb

from compiler.exports.detect import open_lines
from compiler.exports.load import MAX_LINE
from compiler.funnel.dialects import quote as sql_text

# Top-level fields of the canonical §10 shape that PostHog keeps inside properties.
CANONICAL_TOP = (
    ("source", "source"),
    ("environment", "environment"),
    ("user_id", "user_id"),
    ("experiment_variant", "experiment_variant"),
    ("session_id", "$session_id"),
)
# A line DuckDB's JSON functions would read differently from RFC 8259 (they accept NaN,
# Infinity and trailing commas, and keep the first of duplicate keys): such lines, and only
# they, are re-read by `normalize` in Python. A false positive costs a Python parse, no more.
SUSPECT = r"[:,\[][ \t\r\n]*[-+]?(?i:nan|inf)|,[ \t\r\n]*[\]}]"
NORMALIZE_UDF = "_trackplan_normalize"
NORMALIZE_JSON_UDF = "_trackplan_normalize_json"


class _Number(str):
    """A JSON number kept as written (no float rounding, 1e400 stays 1e400)."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _dump(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{_dump(k)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    if isinstance(value, _Number):
        return str.__str__(value)
    return json.dumps(value, ensure_ascii=False)


def normalize_line(line: str | None) -> str | None:
    """A JSON Lines line as RFC 8259 reads it, or None: see `normalize`."""
    return normalize(line, envelope=True)


def normalize_json(text: str | None) -> str | None:
    """A JSON text (Parquet's properties) as RFC 8259 reads it, or None: see `normalize`."""
    return normalize(text, envelope=False)


def normalize(line: str | None, envelope: bool = True) -> str | None:
    """`line` as RFC 8259 reads it, or None when it is not RFC 8259 JSON: duplicate keys
    resolved (the last wins), the canonical top-level envelope fields moved into `properties`
    (the top-level value wins over one already there; PostHog's shape), written compactly."""
    if line is None:
        return None
    try:
        doc = json.loads(line, parse_float=_Number, parse_int=_Number, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if envelope and isinstance(doc, dict) and any(top in doc for top, _ in CANONICAL_TOP):
        props = doc.get("properties")
        if props is None:
            props = {}
        if isinstance(props, dict):
            for top, inner in CANONICAL_TOP:
                if top in doc:
                    props[inner] = doc.pop(top)
            doc["properties"] = props
    return _dump(doc)


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """The Python functions the readers call (on the few lines that need them)."""
    registered = {
        str(name)
        for (name,) in con.execute(
            "SELECT function_name FROM duckdb_functions() WHERE function_name LIKE '_trackplan%'"
        ).fetchall()
    }
    functions: dict[str, Callable[..., Any]] = {
        NORMALIZE_UDF: normalize_line,
        NORMALIZE_JSON_UDF: normalize_json,
    }
    for name, function in functions.items():
        if name not in registered:
            # null_handling as a string: its enum moved between DuckDB releases
            con.create_function(  # type: ignore[call-overload]
                name, function, ["VARCHAR"], "VARCHAR", null_handling="special"
            )


def needs_normalizing(text: str, keys: str, props_keys: str) -> str:
    """SQL: JSON text `text` (valid for DuckDB) may read differently under RFC 8259, or has
    duplicate keys at the top (`keys`: its json_keys) or in its properties (`props_keys`).

    Each JSON function over a whole line holds a chunk's parsed documents (about 40 MiB per
    thread on browser rows, counted against the memory limit and never spilled), so the key
    lists are computed once, in a column of their own, and every check reads them."""
    return (
        f"(regexp_matches({text}, {sql_text(SUSPECT)}) OR {has_duplicates(keys)} "
        f"OR coalesce({has_duplicates(props_keys)}, false))"
    )


def has_duplicates(keys: str) -> str:
    return f"(list_unique({keys}) < len({keys}))"


def top_conflict(j: str, props_keys: str) -> str:
    """SQL: a canonical top-level envelope field is also inside properties (`j`: the JSON
    values of _PATHS; `props_keys`: the keys of properties, [] when it is not an object)."""
    return (
        "("
        + " OR ".join(
            f"({j}[{8 + i}] IS NOT NULL AND coalesce(list_contains({props_keys}, {sql_text(inner)}), false))"
            for i, (_, inner) in enumerate(CANONICAL_TOP)
        )
        + ")"
    )


def looks_canonical(path: str, compression: str | None = None) -> bool:
    with open_lines(path, compression) as handle:
        line = handle.readline(MAX_LINE)
    try:
        first = json.loads(line)
    except ValueError:
        return True
    return not isinstance(first, dict) or any(top in first for top, _ in CANONICAL_TOP)
