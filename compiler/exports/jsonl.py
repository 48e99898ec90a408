"""JSON Lines exports into the rows table (`load.ROWS_TABLE`): PostHog's batch export, canonical
§10 rows and events-API rows, plain or compressed.

A file every line of which DuckDB's JSON reader reads as RFC 8259 does is read by it, in
parallel (`_insert_jsonl_clean`). Any other file is read line by line: lines are read raw
(`read_csv` with one column and no quoting), validated with `json_valid`, and the few that
DuckDB would read differently from RFC 8259 re-read in Python (`json_text.normalize`). A line
that is not JSON, not an object or has no event name is kept as a row with a `_reason`. Lines
DuckDB rejects outright (invalid UTF-8, a stray control byte) come from its rejects table, with
their line numbers, and the numbering of the lines after them is corrected.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import duckdb
import numpy as np

from compiler.exports import load
from compiler.exports import report as bad
from compiler.exports.detect import open_lines
from compiler.exports.json_text import (
    CANONICAL_TOP,
    NORMALIZE_UDF,
    SUSPECT,
    has_duplicates,
    looks_canonical,
    needs_normalizing,
    top_conflict,
)
from compiler.exports.load import Screen, ident, sql_text

# The JSON values each line is read into, in this order (j[1] ... j[12] in the SQL).
PATHS = ["uuid", "id", "event", "distinct_id", "timestamp", "person_id", "properties"]
PATHS += [top for top, _ in CANONICAL_TOP]


def _lines_reader(path: str, compression: str | None, rejects: str) -> str:
    return (
        f"read_csv({sql_text(path)}, columns={{'line': 'VARCHAR'}}, header=false, "
        "delim=chr(1), quote='', escape='', auto_detect=false, new_line='\\n', "
        f"compression={sql_text(compression or 'none')}, max_line_size={load.MAX_LINE}, "
        f"ignore_errors=true, store_rejects=true, rejects_table={sql_text(rejects + '_e')}, "
        f"rejects_scan={sql_text(rejects + '_s')})"
    )


def _canonical_properties(tops: list[str] | None = None) -> str:
    """Properties with the canonical top-level envelope fields moved inside (PostHog shape).

    `tops` are the JSON values of the CANONICAL_TOP fields (default: j[8]...)."""
    tops = tops or [f"j[{8 + i}]" for i in range(len(CANONICAL_TOP))]
    pieces = ", ".join(
        f"CASE WHEN {top} IS NOT NULL THEN '\"{inner}\":' || {top}::VARCHAR END"
        for top, (_, inner) in zip(tops, CANONICAL_TOP, strict=True)
    )
    props = "coalesce(props, '{}')"
    return f"""CASE
        WHEN NOT canonical THEN {props}
        WHEN {props} = '{{}}' THEN '{{' || concat_ws(',', {pieces}) || '}}'
        ELSE '{{' || concat_ws(',', {pieces}) || ',' || substr({props}, 2) END"""


def _shaped_insert(values_ctes: str, name: str, screen: Screen | None) -> str:
    """INSERT the rows of CTE `values(_reason, j)`, j being the JSON values of PATHS."""
    select = f"""
    WITH {values_ctes}, shaped AS (
        SELECT _reason, j, CASE WHEN json_type(j[7]) <> 'NULL' THEN j[7]::VARCHAR END AS props,
            nullif(json_type(j[7]), 'NULL') AS props_type,
            coalesce({", ".join(f"j[{8 + i}]" for i in range(len(CANONICAL_TOP)))}) IS NOT NULL
            AS canonical
        FROM values
    )
    SELECT
        coalesce(j[1], j[2]) ->> '$' AS uuid,
        CASE WHEN json_type(j[3]) = 'VARCHAR' THEN j[3] ->> '$' END AS event,
        coalesce(j[4] ->> '$', json_extract_string(j[7], '$.distinct_id')) AS distinct_id,
        try_cast(j[5] ->> '$' AS TIMESTAMPTZ) AS timestamp,
        j[6] ->> '$' AS person_id,
        CASE WHEN _reason IS NULL AND coalesce(props_type, 'OBJECT') = 'OBJECT'
             THEN {_canonical_properties()} END AS properties,
        {sql_text(name)} AS _file, NULL::BIGINT AS _row,
        coalesce(_reason,
            CASE WHEN json_type(j[3]) IS DISTINCT FROM 'VARCHAR' OR j[3] ->> '$' = ''
                 THEN {sql_text(bad.NO_EVENT)}
                 WHEN coalesce(props_type, 'OBJECT') <> 'OBJECT'
                 THEN {sql_text('properties ' + bad.NOT_AN_OBJECT.lower())} END) AS _reason
    FROM shaped
    """
    return load.screened_insert(select, screen)


def _newlines(path: str) -> int:
    """Lines in a plain file (a last line without a newline counts). numpy over one reused
    16 MiB buffer: about twice as fast as bytes.count, and unlike a memory map it does not
    leave the whole file in the process's resident set."""
    buffer = bytearray(1 << 24)
    view = np.frombuffer(buffer, dtype=np.uint8)
    count, last = 0, 10
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            count += int(np.count_nonzero(view[:size] == 10))
            last = int(view[size - 1])
    return count + (last != 10)


def _count_if_plain(con: duckdb.DuckDBPyConnection, path: str) -> int | None:
    """The lines of `path` if DuckDB's JSON reader reads every one of them as RFC 8259 does,
    else None. The reader keeps the first of duplicate keys and accepts NaN, Infinity and
    trailing commas: a line where that could matter (the SUSPECT pattern, a duplicate key at
    the top or in properties, a top-level envelope field also inside properties) sends the
    file to the line-by-line reader, which re-reads such lines in Python. Two JSON functions
    over raw lines and nothing kept: a bounded working set, where doing these checks inside the
    line reader's INSERT held a chunk's parsed documents per JSON function and ran out of
    memory on a 2 GB export."""
    conflict = " OR ".join(
        f"(list_contains(k, {sql_text(top)}) AND list_contains(p, {sql_text(inner)}))"
        for top, inner in CANONICAL_TOP
    )
    reader = (
        f"read_csv({sql_text(path)}, columns={{'line': 'VARCHAR'}}, header=false, "
        "delim=chr(1), quote='', escape='', auto_detect=false, new_line='\\n', "
        f"max_line_size={load.MAX_LINE})"
    )
    try:
        row = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE regexp_matches(line, {sql_text(SUSPECT)})
            OR {has_duplicates('k')} OR coalesce({has_duplicates('p')}, false)
            OR coalesce({conflict}, false))
        FROM (SELECT line, json_keys(line) AS k, json_keys(line, '$.properties') AS p
              FROM {reader})""").fetchone()
    except duckdb.Error:  # a line that is not JSON (or not UTF-8): the line reader says which
        return None
    if row is None or row[1]:
        return None
    return int(row[0])


def _insert_jsonl_clean(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    screen: Screen | None,
    lines: int | None = None,
) -> bool:
    """The fast path: DuckDB's JSON reader parses each line once, in parallel.

    It stops at the first bad line and skips blank ones, so it is used only when it reads
    every line of an uncompressed file; otherwise nothing is kept and the caller reads the
    file line by line.
    """
    if looks_canonical(path):
        return False  # the JSON reader turns a top-level null into NULL; keep it a JSON null
    count = _count_if_plain(con, path)
    if count is None or count != (_newlines(path) if lines is None else lines):
        return False
    first = load.next_rowid(con)
    text = ("uuid", "id", "distinct_id", "timestamp", "person_id")  # read as text, as ->> would
    columns = ", ".join(f"{ident(p)}: '{'VARCHAR' if p in text else 'JSON'}'" for p in PATHS)
    reader = (
        f"read_ndjson({sql_text(path)}, columns={{{columns}}}, maximum_object_size={load.MAX_LINE})"
    )
    tops = [ident(top) for top, _ in CANONICAL_TOP]
    # The event stays JSON so a number is not taken for a name; a plain string is unquoted
    # without parsing it again.
    event = (
        "CASE WHEN starts_with(ev, '\"') THEN (CASE WHEN contains(ev, '\\') THEN ev ->> '$' "
        "ELSE ev[2:-2] END) END"
    )
    select = f"""
    SELECT coalesce(uuid, id) AS uuid, nullif(event, '') AS event,
        coalesce(distinct_id, json_extract_string(props, '$.distinct_id')) AS distinct_id,
        try_cast("timestamp" AS TIMESTAMPTZ) AS timestamp, person_id,
        CASE WHEN props IS NULL OR starts_with(props, '{{') THEN {_canonical_properties(tops)} END
            AS properties,
        {sql_text(name)} AS _file, NULL::BIGINT AS _row,
        CASE WHEN coalesce(event, '') = '' THEN {sql_text(bad.NO_EVENT)}
             WHEN props IS NOT NULL AND NOT starts_with(props, '{{')
             THEN {sql_text('properties ' + bad.NOT_AN_OBJECT.lower())} END AS _reason
    FROM (SELECT * EXCLUDE (event, properties), {event} AS event, properties::VARCHAR AS props,
              coalesce({", ".join(tops)}) IS NOT NULL AS canonical
          FROM (SELECT *, "event"::VARCHAR AS ev FROM {reader}))
    """
    try:
        con.execute(load.screened_insert(select, screen))
    except duckdb.Error:
        return False
    inserted = load.next_rowid(con) - first
    if inserted != count:
        con.execute(f"DELETE FROM {load.ROWS_TABLE} WHERE rowid >= {first}")
        return False
    con.execute(f"UPDATE {load.ROWS_TABLE} SET _row = rowid - {first} + 1 WHERE rowid >= {first}")
    return True


def insert_jsonl(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    compression: str | None,
    rejects: str,
    screen: Screen | None = None,
    lines: int | None = None,
) -> None:
    """JSON Lines in the batch-export, canonical §10 or events-API-row shape (`lines`: the
    file's line count, when the caller knows it).

    Line by line (the path for files with bad lines): lines are read raw, validated, then parsed.
    No window function here: `row_number()` would make the scan single-threaded. Rows go into
    the table in file order (DuckDB preserves insertion order), blank lines included, so the
    line number is the rowid offset within the file; blank lines are dropped afterwards.
    """
    fast = screen.jsonl if screen is not None else None
    if fast is not None and fast(con, path, name, compression, rejects):
        return
    # DuckDB's JSON reader (read_ndjson) keeps the first of duplicate keys and accepts NaN,
    # Infinity and trailing commas: it reads a file only when no line can tell (_count_if_plain).
    if compression is None and _insert_jsonl_clean(con, path, name, screen, lines):
        return
    try:
        _insert_lines(con, path, name, compression, rejects, screen)
    except duckdb.InvalidInputException as exc:
        # DuckDB's CSV state machine gives up on a file with a bare CR (or CRLF line ends mixed
        # with backslashes). A CR byte in a JSON line is either whitespace or an unescaped
        # control character inside a string, exactly like a tab: read a copy with CR as TAB,
        # which parses the same, and lets every other line be read.
        if compression not in (None, "gzip") or "state machine" not in str(exc):
            raise
        con.execute(f"DELETE FROM {load.ROWS_TABLE} WHERE _file = ?", [name])
        con.execute(f"DROP TABLE IF EXISTS {rejects}_e; DROP TABLE IF EXISTS {rejects}_s")
        fd, plain = tempfile.mkstemp(prefix="trackplan-lf-", suffix=".jsonl")
        try:
            with open_lines(path, compression) as source, os.fdopen(fd, "wb") as target:
                _cr_as_tab(source, target)
            _insert_lines(con, plain, name, None, rejects, screen)
        finally:
            os.unlink(plain)


def _cr_as_tab(source: Any, target: Any) -> None:
    while block := source.read(1 << 24):
        target.write(block.replace(b"\r", b"\t"))


def _insert_lines(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    compression: str | None,
    rejects: str,
    screen: Screen | None,
) -> None:
    paths = "[" + ", ".join(sql_text(f"$.{p}") for p in PATHS) + "]"
    first = load.next_rowid(con)
    con.execute(
        _shaped_insert(
            f"""parts AS (
        SELECT line, CASE
            WHEN line IS NULL OR trim(line, ' \r\t') = '' THEN '{load.BLANK}'
            WHEN NOT json_valid(line) THEN {sql_text(bad.INVALID_JSON)}
            WHEN left(ltrim(line, ' \t'), 1) <> '{{' THEN {sql_text(bad.NOT_AN_OBJECT)} END
            AS _reason
        FROM {_lines_reader(path, compression, rejects)}
    ), first AS (
        SELECT line, _reason, json_extract(CASE WHEN _reason IS NULL THEN line END, {paths}) AS j0,
            json_keys(CASE WHEN _reason IS NULL THEN line END) AS keys
        FROM parts
    ), keyed AS (
        SELECT *, json_keys(j0[7]) AS pkeys FROM first
    ), checked AS (
        SELECT line, _reason, j0, CASE WHEN _reason IS NULL
            THEN {needs_normalizing('line', 'keys', 'pkeys')} OR {top_conflict('j0', 'pkeys')}
            ELSE false END AS odd
        FROM keyed
    ), fixed AS (
        SELECT *, CASE WHEN odd THEN {NORMALIZE_UDF}(line) END AS norm FROM checked
    ), values AS (
        SELECT CASE WHEN odd AND norm IS NULL THEN {sql_text(bad.INVALID_JSON)} ELSE _reason END
                AS _reason,
            CASE WHEN odd THEN json_extract(norm, {paths}) ELSE j0 END AS j
        FROM fixed
    )""",
            name,
            screen,
        )
    )
    con.execute(f"UPDATE {load.ROWS_TABLE} SET _row = rowid - {first} + 1 WHERE rowid >= {first}")
    load.add_rejects(con, name, rejects)
    con.execute(f"DELETE FROM {load.ROWS_TABLE} WHERE _reason = '{load.BLANK}'")
