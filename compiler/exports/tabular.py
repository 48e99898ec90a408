"""CSV and Parquet exports into the rows table (`load.ROWS_TABLE`).

PostHog's UI events CSV holds every value as text, with a `*.properties.<key>` column per key;
a batch-export Parquet file holds `properties` as a JSON string, read as the JSON Lines reader
reads a line's properties (RFC 8259 through `json_text.normalize`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import duckdb

from compiler.exports import load
from compiler.exports import report as bad
from compiler.exports.json_text import NORMALIZE_JSON_UDF, needs_normalizing
from compiler.exports.load import Screen, ident, sql_text


def csv_columns(con: duckdb.DuckDBPyConnection, path: str) -> list[str]:
    described = con.execute(
        f"DESCRIBE SELECT * FROM read_csv({sql_text(path)}, header=true, all_varchar=true, "
        "delim=',', quote='\"', escape='\"', sample_size=1)"
    ).fetchall()
    return [str(row[0]) for row in described]


def _csv_column(columns: list[str], *names: str) -> str:
    for name in names:
        for prefix in ("*.", ""):
            if prefix + name in columns:
                return ident(prefix + name)
    return "NULL"


def csv_has_events_header(columns: list[str]) -> bool:
    return any(c in columns for c in ("*.event", "event")) and any(
        c in columns for c in ("*.distinct_id", "distinct_id", "*.uuid", "uuid", "id")
    )


def _csv_properties(columns: list[str], event: str, nulls: Mapping[str, Collection[str]]) -> str:
    """The properties JSON of a CSV row. A CSV cannot tell null from absent: an empty cell (or no
    column) for a property in `nulls[event]` is read as null, anything else empty as absent."""
    keys: dict[str, str | None] = {}
    for column in columns:
        for prefix in ("*.properties.", "properties."):
            if column.startswith(prefix):
                keys.setdefault(column[len(prefix) :], column)
    null_for: dict[str, list[str]] = {}
    for event_name, names in nulls.items():
        for key in names:
            null_for.setdefault(key, []).append(event_name)
            keys.setdefault(key, None)
    if not keys:
        return "'{}'"
    pieces = []
    for key, col in sorted(keys.items()):
        whens = (
            [
                f"WHEN {ident(col)} <> '' THEN to_json({sql_text(key)}) || ':' || to_json({ident(col)})"
            ]
            if col
            else []
        )
        if key in null_for:
            events = ", ".join(sql_text(e) for e in sorted(null_for[key]))
            whens.append(f"WHEN {event} IN ({events}) THEN to_json({sql_text(key)}) || ':null'")
        pieces.append(f"CASE {' '.join(whens)} END")
    return f"'{{' || concat_ws(',', {', '.join(pieces)}) || '}}'"


def insert_csv(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    columns: list[str],
    rejects: str,
    nulls: Mapping[str, Collection[str]],
) -> None:
    """PostHog's UI events CSV: every value is text; `*.properties.<key>` columns."""
    reader = (
        f"read_csv({sql_text(path)}, header=true, all_varchar=true, delim=',', quote='\"', "
        f"escape='\"', max_line_size={load.MAX_LINE}, ignore_errors=true, "
        f"store_rejects=true, rejects_table={sql_text(rejects + '_e')}, "
        f"rejects_scan={sql_text(rejects + '_s')})"
    )
    event = _csv_column(columns, "event")
    con.execute(f"""
    INSERT INTO {load.ROWS_TABLE} ({load.COLUMNS})
    SELECT nullif({_csv_column(columns, 'uuid', 'id')}, ''), nullif({event}, ''),
        nullif({_csv_column(columns, 'distinct_id')}, ''),
        try_cast({_csv_column(columns, 'timestamp')} AS TIMESTAMPTZ),
        nullif({_csv_column(columns, 'person_id')}, ''),
        {_csv_properties(columns, event, nulls)},
        {sql_text(name)}, row_number() OVER () + 1,
        CASE WHEN coalesce({event}, '') = '' THEN {sql_text(bad.NO_EVENT)} END
    FROM {reader}
    """)
    load.add_rejects(con, name, rejects)


def count_csv_rows(con: duckdb.DuckDBPyConnection, path: str) -> int:
    row = con.execute(
        f"SELECT count(*) FROM read_csv({sql_text(path)}, header=true, all_varchar=true, "
        "delim=',', quote='\"', escape='\"', ignore_errors=true, "
        f"max_line_size={load.MAX_LINE})"
    ).fetchone()
    return int(row[0]) if row else 0


def insert_parquet(
    con: duckdb.DuckDBPyConnection, path: str, name: str, screen: Screen | None = None
) -> None:
    """Batch-export Parquet: properties is a JSON string; timestamp a UTC TIMESTAMP."""
    columns = {
        str(r[0]): str(r[1])
        for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_text(path)})").fetchall()
    }

    def col(*names: str) -> str:
        found = next((n for n in names if n in columns), None)
        return f'"{found}"::VARCHAR' if found else "NULL"

    raw = col("properties")
    ts = col("timestamp")
    ts_expr = 'try_cast("timestamp" AS TIMESTAMPTZ)' if ts != "NULL" else "NULL"
    # The properties text as the JSON Lines reader has it: RFC 8259 (duplicate keys, NaN, ...
    # through `normalize`), then rewritten by DuckDB's JSON writer (escapes such as \u0040
    # decoded, so PII is found however it was written); null is {}.
    select = f"""
    WITH raw AS (
        SELECT *, {raw} AS raw_props, {col('event')} AS raw_event, {col('distinct_id')} AS raw_id
        FROM read_parquet({sql_text(path)}, file_row_number=true)
    ), keyed AS (
        SELECT *, CASE WHEN json_valid(raw_props) THEN json_keys(raw_props) END AS _tp_keys FROM raw
    ), checked AS (
        SELECT * EXCLUDE (_tp_keys), CASE WHEN _tp_keys IS NULL THEN raw_props
            WHEN {needs_normalizing('raw_props', '_tp_keys', '_tp_keys')}
            THEN {NORMALIZE_JSON_UDF}(raw_props) ELSE raw_props END AS norm
        FROM keyed
    ), parsed AS (
        SELECT *, CASE WHEN norm IS NOT NULL AND json_valid(norm) AND json_type(norm) <> 'NULL'
            THEN json_extract(norm, '$') END AS props,
            raw_props IS NOT NULL AND (norm IS NULL OR NOT json_valid(norm)) AS invalid
        FROM checked
    )
    SELECT {col('uuid', 'id')} AS uuid, nullif(raw_event, '') AS event,
        coalesce(raw_id, json_extract_string(props, '$.distinct_id')) AS distinct_id,
        {ts_expr} AS timestamp, {col('person_id')} AS person_id,
        CASE WHEN props IS NULL AND NOT invalid THEN '{{}}'
             WHEN json_type(props) = 'OBJECT' THEN props::VARCHAR END AS properties,
        {sql_text(name)} AS _file, file_row_number + 1 AS _row,
        CASE WHEN invalid THEN {sql_text(bad.INVALID_JSON + ' in properties')}
             WHEN props IS NOT NULL AND json_type(props) <> 'OBJECT'
                  THEN {sql_text('properties ' + bad.NOT_AN_OBJECT.lower())}
             WHEN coalesce(raw_event, '') = '' THEN {sql_text(bad.NO_EVENT)} END AS _reason
    FROM parsed
    """
    con.execute(load.screened_insert(select, screen))
