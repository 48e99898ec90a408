"""Each export format into one DuckDB table of rows, PostHog-shaped, bad rows kept and counted.

Every reader is one INSERT ... SELECT over a DuckDB native reader, so no row passes through
Python. JSON Lines are read as raw lines (`read_csv` with one column and no quoting), numbered
with a streaming `row_number()`, then validated with `json_valid`/`json_type`: a line that is
not JSON, not an object or has no event name is kept as a row with a `_reason`. Lines DuckDB
rejects outright (invalid UTF-8, a stray control byte) come from its rejects table, with their
line numbers, and the numbering of the lines after them is corrected.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

import duckdb
import numpy as np

from compiler.exports import report as bad
from compiler.exports import scan
from compiler.funnel.dialects import quote, quote_ident

ROWS_TABLE = "_trackplan_export_rows"
# Rows the C line scanner proved clean, narrow (an insert into the 11-column table above costs
# 0.14 s per million rows in NULLs alone); the `events` view joins in the names. It is a view
# over the scanner's numpy arrays, registered batch by batch (CLEAN_BATCHES names them): DuckDB
# reads them in place, where an INSERT of a million rows cost 0.05 s.
CLEAN_TABLE = "_trackplan_clean_rows"
CLEAN_BATCHES = "_trackplan_clean_batches"
EVENT_NAMES = "_trackplan_event_names"
FILE_NAMES = "_trackplan_file_names"
MAX_LINE = 16 * 1024 * 1024  # PostHog caps a batch request at 20 MB; an event is far smaller
CLEAN_BATCH = 4_000_000  # clean rows per registered batch (18 bytes each)
SCAN_PART = "#trackplan-scan"  # the _file of the scanner's unclear lines while they are read
BLANK = "_blank"  # blank lines keep their place while lines are numbered, then go

CREATE_ROWS = f"""
CREATE OR REPLACE TEMP TABLE {ROWS_TABLE} (
    uuid VARCHAR, event VARCHAR, distinct_id VARCHAR, timestamp TIMESTAMPTZ,
    person_id VARCHAR, properties VARCHAR, _file VARCHAR, _row BIGINT, _reason VARCHAR,
    _clean BOOLEAN, _seq BOOLEAN
);
CREATE OR REPLACE TEMP TABLE {CLEAN_BATCHES} (name VARCHAR, file SMALLINT);
CREATE OR REPLACE TEMP VIEW {CLEAN_TABLE} AS SELECT NULL::SMALLINT AS event, NULL::BIGINT AS ts,
    NULL::BIGINT AS _row, NULL::SMALLINT AS file WHERE false;
CREATE OR REPLACE TEMP TABLE {EVENT_NAMES} (i SMALLINT, name VARCHAR);
CREATE OR REPLACE TEMP TABLE {FILE_NAMES} (i SMALLINT, name VARCHAR);
"""
COLUMNS = "uuid, event, distinct_id, timestamp, person_id, properties, _file, _row, _reason"

EVENTS_VIEW = f"""
CREATE OR REPLACE TEMP VIEW events AS
SELECT uuid, event, distinct_id, timestamp, person_id, properties, _file, _row, _clean, _seq
FROM {ROWS_TABLE} WHERE _reason IS NULL
"""


ROWS_STATS = f"""
SELECT event, count(*) AS n, min(timestamp) AS first_seen, max(timestamp) AS last_seen
FROM {ROWS_TABLE} WHERE _reason IS NULL GROUP BY event
"""


def create_events_view(con: duckdb.DuckDBPyConnection) -> None:
    """The `events` view: the rows table, and the scanner's clean rows if there are any (their
    names by index from list literals: cheaper per query than a join); and `event_stats`, each
    event's rows, first and last timestamp, the clean rows counted before their names are
    looked up (a tenth of the time on a million rows)."""
    if con.execute(f"SELECT count(*) FROM {CLEAN_TABLE}").fetchone() == (0,):
        con.execute(EVENTS_VIEW)
        con.execute(f"CREATE OR REPLACE TEMP VIEW event_stats AS {ROWS_STATS}")
        return

    def names(table: str) -> str:
        rows = con.execute(f"SELECT name FROM {table} ORDER BY i").fetchall()
        return "[" + ", ".join(sql_text(str(n)) for (n,) in rows) + "]"

    events = names(EVENT_NAMES)
    con.execute(f"""{EVENTS_VIEW}
    UNION ALL
    SELECT NULL, {events}[c.event + 1], NULL, make_timestamp(c.ts)::TIMESTAMPTZ,
        NULL, NULL, {names(FILE_NAMES)}[c.file + 1], c._row, true, false
    FROM {CLEAN_TABLE} c""")
    con.execute(f"""
    CREATE OR REPLACE TEMP VIEW event_stats AS
    SELECT event, sum(n)::BIGINT AS n, min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM ({ROWS_STATS}
          UNION ALL
          SELECT {events}[event + 1], n, make_timestamp(first)::TIMESTAMPTZ,
              make_timestamp(last)::TIMESTAMPTZ
          FROM (SELECT event, count(*) AS n, min(ts) AS first, max(ts) AS last
                FROM {CLEAN_TABLE} GROUP BY event))
    GROUP BY event""")


# Rows per file, bad ones included (the clean table holds only good rows).
FILE_ROWS = f"""
SELECT _file, sum(n)::BIGINT, sum(bad)::BIGINT FROM (
    SELECT _file, count(*) AS n, count(_reason) AS bad FROM {ROWS_TABLE} GROUP BY _file
    UNION ALL
    SELECT f.name, n, 0 FROM (SELECT file, count(*) AS n FROM {CLEAN_TABLE} GROUP BY file) c
    JOIN {FILE_NAMES} f ON f.i = c.file
) GROUP BY _file
"""

# Top-level fields of the canonical §10 shape that PostHog keeps inside properties.
CANONICAL_TOP = (
    ("source", "source"),
    ("environment", "environment"),
    ("user_id", "user_id"),
    ("experiment_variant", "experiment_variant"),
    ("session_id", "$session_id"),
)
_PATHS = ["uuid", "id", "event", "distinct_id", "timestamp", "person_id", "properties"]
_PATHS += [top for top, _ in CANONICAL_TOP]


class Screen(NamedTuple):
    """SQL over a read row (uuid, event, distinct_id, timestamp, person_id, properties) that
    the audit supplies: `clean` rows need no exact check; a clean row keeps its properties
    only when `keep` says a later check reads them. Rows get `_clean` and `_seq` columns.

    `lines` (`compiler.audit.linescan.ScanTables`) lets the C line scanner prove JSON Lines
    (plain or gzip) clean before DuckDB reads them (`scan.py`); a clean row no check reads then
    keeps only its event, timestamp and place."""

    clean: Callable[[], str]  # the SQL, built when a row first needs it
    keep: str
    lines: Any = None


def screened_insert(select: str, screen: Screen | None) -> str:
    """INSERT the rows of `select` (the COLUMNS, in order), screened when `screen` is given."""
    if screen is None:
        return f"INSERT INTO {ROWS_TABLE} ({COLUMNS}) {select}"
    clean = screen.clean()
    return f"""
    INSERT INTO {ROWS_TABLE} ({COLUMNS}, _clean, _seq)
    WITH read AS ({select}),
    screened AS (SELECT *, CASE WHEN _reason IS NULL THEN {clean} END AS _clean FROM read),
    kept AS (SELECT *, (_clean IS NOT TRUE OR {screen.keep}) AS _seq FROM screened)
    SELECT uuid, event, distinct_id, timestamp, person_id,
        CASE WHEN _seq THEN properties END, _file, _row, _reason, _clean, _seq
    FROM kept
    """


REJECT_REASONS = {
    "INVALID ENCODING": bad.INVALID_UTF8,
    "INVALID UNICODE": bad.INVALID_UTF8,
    "TOO MANY COLUMNS": bad.BAD_FIELDS,
    "MISSING COLUMNS": bad.BAD_FIELDS,
    "LINE SIZE OVER MAXIMUM": f"line longer than {MAX_LINE // (1 << 20)} MiB",
}


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


def _needs_normalizing(text: str, keys: str, props_keys: str) -> str:
    """SQL: JSON text `text` (valid for DuckDB) may read differently under RFC 8259, or has
    duplicate keys at the top (`keys`: its json_keys) or in its properties (`props_keys`).

    Each JSON function over a whole line holds a chunk's parsed documents (about 40 MiB per
    thread on browser rows, counted against the memory limit and never spilled), so the key
    lists are computed once, in a column of their own, and every check reads them."""
    return (
        f"(regexp_matches({text}, {sql_text(SUSPECT)}) OR {_has_duplicates(keys)} "
        f"OR coalesce({_has_duplicates(props_keys)}, false))"
    )


def _has_duplicates(keys: str) -> str:
    return f"(list_unique({keys}) < len({keys}))"


def _top_conflict(j: str, props_keys: str) -> str:
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


sql_text = quote  # SQL quoting has one place: compiler/funnel/dialects.py
ident = quote_ident


def _lines_reader(path: str, compression: str | None, rejects: str) -> str:
    return (
        f"read_csv({sql_text(path)}, columns={{'line': 'VARCHAR'}}, header=false, "
        "delim=chr(1), quote='', escape='', auto_detect=false, new_line='\\n', "
        f"compression={sql_text(compression or 'none')}, max_line_size={MAX_LINE}, "
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
    """INSERT the rows of CTE `values(_reason, j)`, j being the JSON values of _PATHS."""
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
    return screened_insert(select, screen)


def _looks_canonical(path: str, compression: str | None = None) -> bool:
    with scan.open_lines(path, compression) as handle:
        line = handle.readline(MAX_LINE)
    try:
        first = json.loads(line)
    except ValueError:
        return True
    return not isinstance(first, dict) or any(top in first for top, _ in CANONICAL_TOP)


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
        f"max_line_size={MAX_LINE})"
    )
    try:
        row = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE regexp_matches(line, {sql_text(SUSPECT)})
            OR {_has_duplicates('k')} OR coalesce({_has_duplicates('p')}, false)
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
    if _looks_canonical(path):
        return False  # the JSON reader turns a top-level null into NULL; keep it a JSON null
    count = _count_if_plain(con, path)
    if count is None or count != (_newlines(path) if lines is None else lines):
        return False
    first = _next_rowid(con)
    text = ("uuid", "id", "distinct_id", "timestamp", "person_id")  # read as text, as ->> would
    columns = ", ".join(f"{ident(p)}: '{'VARCHAR' if p in text else 'JSON'}'" for p in _PATHS)
    reader = f"read_ndjson({sql_text(path)}, columns={{{columns}}}, maximum_object_size={MAX_LINE})"
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
        con.execute(screened_insert(select, screen))
    except duckdb.Error:
        return False
    inserted = _next_rowid(con) - first
    if inserted != count:
        con.execute(f"DELETE FROM {ROWS_TABLE} WHERE rowid >= {first}")
        return False
    con.execute(f"UPDATE {ROWS_TABLE} SET _row = rowid - {first} + 1 WHERE rowid >= {first}")
    return True


def _insert_jsonl_scanned(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    compression: str | None,
    rejects: str,
    screen: Screen | None,
) -> bool:
    """The fastest path: the C line scanner proves most lines clean (only their event,
    timestamp and line number go to DuckDB), and writes two temp files for the rest: records of
    the clean lines a cross-row check reads (`_insert_kept`), and the lines it could not prove,
    which DuckDB reads as any JSON Lines file, through the SQL screen, and whose line numbers
    are then put back (`_insert_part`)."""
    if screen is None or screen.lines is None or not scan.available():
        return False
    if compression not in (None, "gzip") or _looks_canonical(path, compression):
        return False
    tables = screen.lines
    names = {"i": np.arange(len(tables.events), dtype=np.int16), "name": np.array(tables.events)}
    with _registered(con, names) as view:
        con.execute(f"DELETE FROM {EVENT_NAMES}; INSERT INTO {EVENT_NAMES} SELECT * FROM {view}")
    (file,) = con.execute(f"SELECT count(*) FROM {FILE_NAMES}").fetchone() or (0,)
    con.execute(f"INSERT INTO {FILE_NAMES} VALUES (?, ?)", [file, name])

    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def insert_clean(event: np.ndarray, ts: np.ndarray, row: np.ndarray) -> None:
        # Gathered into one batch per CLEAN_BATCH rows: each registration costs ~5 ms.
        pending.append((event, ts, row))
        if sum(len(p[0]) for p in pending) >= CLEAN_BATCH:
            flush()

    def flush() -> None:
        if pending:
            arrays = {k: np.concatenate([p[n] for p in pending]) for n, k in enumerate("etr")}
            pending.clear()
            _add_clean_batch(con, arrays, file)

    parts = [tempfile.mkstemp(prefix="trackplan-scan-", suffix=".jsonl") for _ in range(2)]
    try:
        with os.fdopen(parts[0][0], "wb") as kept, os.fdopen(parts[1][0], "wb") as unclear:
            scanned = scan.scan_file(path, tables, kept, unclear, insert_clean, compression)
        flush()
        # Lines proved clean that a cross-row check reads: their records, marked clean.
        _insert_kept(con, parts[0][1], name, scanned)
        # The rest: the SQL screen, then the exact checks, decide.
        unscanned = screen._replace(lines=None)
        _insert_part(con, parts[1][1], name, scanned.unclear_rows, rejects, unscanned)
    finally:
        for _, part in parts:
            os.unlink(part)
    return True


def reset(con: duckdb.DuckDBPyConnection) -> None:
    """Empty tables for a new read (and the previous read's clean batches let go)."""
    try:
        batches = con.execute(f"SELECT name FROM {CLEAN_BATCHES}").fetchall()
    except duckdb.CatalogException:
        batches = []
    for (name,) in batches:
        con.unregister(str(name))
    con.execute(CREATE_ROWS)
    register_functions(con)


def _add_clean_batch(con: duckdb.DuckDBPyConnection, arrays: dict[str, Any], file: int) -> None:
    """Register a batch of clean rows (event index `e`, µs `t`, line `r`) of file `file`."""
    # Named by file and batch: a discarded file's names are never used again (`discard`).
    ((count,),) = con.execute(
        f"SELECT count(*) FROM {CLEAN_BATCHES} WHERE file = ?", [file]
    ).fetchall()
    name = f"{CLEAN_TABLE}_{file}_{count}"
    con.register(name, arrays)
    con.execute(f"INSERT INTO {CLEAN_BATCHES} VALUES (?, ?)", [name, file])
    _union_clean_batches(con)


def _union_clean_batches(con: duckdb.DuckDBPyConnection) -> None:
    batches = con.execute(f"SELECT name, file FROM {CLEAN_BATCHES}").fetchall()
    if not batches:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {CLEAN_TABLE} AS SELECT NULL::SMALLINT AS event, "
            "NULL::BIGINT AS ts, NULL::BIGINT AS _row, NULL::SMALLINT AS file WHERE false"
        )
        return
    union = " UNION ALL ".join(
        f"SELECT e::SMALLINT AS event, t AS ts, r AS _row, {int(f)}::SMALLINT AS file FROM {n}"
        for n, f in batches
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {CLEAN_TABLE} AS {union}")


def discard(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop every row read so far from file `name` (a read that failed part way): a file is
    counted whole or not at all, never as the rows that happened to be read before the error."""
    con.execute(f"DELETE FROM {ROWS_TABLE} WHERE _file = ? OR _file = ?", [name, name + SCAN_PART])
    files = [
        int(f)
        for (f,) in con.execute(f"SELECT i FROM {FILE_NAMES} WHERE name = ?", [name]).fetchall()
    ]
    if not files:
        return
    marks = ", ".join("?" * len(files))
    batches = con.execute(
        f"SELECT name FROM {CLEAN_BATCHES} WHERE file IN ({marks})", files
    ).fetchall()
    con.execute(f"DELETE FROM {CLEAN_BATCHES} WHERE file IN ({marks})", files)
    _union_clean_batches(con)  # the view first: it must not name an unregistered batch
    for (batch,) in batches:
        con.unregister(str(batch))


def _insert_kept(con: duckdb.DuckDBPyConnection, path: str, name: str, scanned: Any) -> None:
    """Read the records `scan.scan_file` wrote for lines proved clean that a cross-row check
    reads (`scan.KEPT_COLUMNS`): a CSV read, with no JSON to parse."""
    if not scanned.kept:
        return
    columns = ", ".join(f"{sql_text(c)}: {sql_text(t)}" for c, t in scan.KEPT_COLUMNS)
    bases = "[" + ", ".join(str(int(b)) for b in scanned.bases) + "]"
    count = con.execute(f"""
    INSERT INTO {ROWS_TABLE} ({COLUMNS}, _clean, _seq)
    SELECT uuid, event, distinct_id, make_timestamp(ts)::TIMESTAMPTZ, person_id, properties,
        {sql_text(name)}, {bases}[chunk + 1] + line, NULL, true, true
    FROM read_csv({sql_text(path)}, delim = E'\\x01', quote = '', escape = '', header = false,
        nullstr = E'\\x02', auto_detect = false, max_line_size = {MAX_LINE},
        columns = {{{columns}}})""").fetchone()
    if count is None or count[0] != scanned.kept:  # the scanner wrote every one of them
        raise duckdb.InvalidInputException(f"{name}: {scanned.kept} kept lines, read {count}")


def _insert_part(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    rows: np.ndarray,
    rejects: str,
    screen: Screen | None,
) -> None:
    """Read the lines the scanner copied to `path`; line k of it is line rows[k - 1] of `name`."""
    if not len(rows):
        return
    part = name + SCAN_PART  # its own name: nothing done by file touches other rows
    first = _next_rowid(con)
    insert_jsonl(con, path, part, None, rejects, screen, lines=len(rows))
    with _registered(con, {"k": np.arange(1, len(rows) + 1), "r": rows}) as lines:
        con.execute(f"""
        UPDATE {ROWS_TABLE} SET _row = {lines}.r, _file = {sql_text(name)} FROM {lines}
        WHERE {ROWS_TABLE}.rowid >= {first} AND {ROWS_TABLE}._row = {lines}.k
        """)


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, arrays: dict[str, Any]) -> Iterator[str]:
    """numpy arrays as a DuckDB view for the time of a query."""
    view = "_trackplan_arrays"
    con.register(view, arrays)
    try:
        yield view
    finally:
        con.unregister(view)


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
    if _insert_jsonl_scanned(con, path, name, compression, rejects, screen):
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
        con.execute(f"DELETE FROM {ROWS_TABLE} WHERE _file = ?", [name])
        con.execute(f"DROP TABLE IF EXISTS {rejects}_e; DROP TABLE IF EXISTS {rejects}_s")
        fd, plain = tempfile.mkstemp(prefix="trackplan-lf-", suffix=".jsonl")
        try:
            with scan.open_lines(path, compression) as source, os.fdopen(fd, "wb") as target:
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
    paths = "[" + ", ".join(sql_text(f"$.{p}") for p in _PATHS) + "]"
    first = _next_rowid(con)
    con.execute(
        _shaped_insert(
            f"""parts AS (
        SELECT line, CASE
            WHEN line IS NULL OR trim(line, ' \r\t') = '' THEN '{BLANK}'
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
            THEN {_needs_normalizing('line', 'keys', 'pkeys')} OR {_top_conflict('j0', 'pkeys')}
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
    con.execute(f"UPDATE {ROWS_TABLE} SET _row = rowid - {first} + 1 WHERE rowid >= {first}")
    _add_rejects(con, name, rejects)
    con.execute(f"DELETE FROM {ROWS_TABLE} WHERE _reason = '{BLANK}'")


def _next_rowid(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT coalesce(max(rowid) + 1, 0) FROM {ROWS_TABLE}").fetchone()
    return int(row[0]) if row else 0


def _add_rejects(con: duckdb.DuckDBPyConnection, name: str, rejects: str) -> None:
    rows = con.execute(
        f"SELECT DISTINCT line, error_type FROM {rejects}_e ORDER BY line"
    ).fetchall()
    if rows:
        # The k-th accepted line sits after every rejected line l_i with l_i - i < k.
        shifts = "[" + ", ".join(str(line - i) for i, (line, _) in enumerate(rows, 1)) + "]"
        con.execute(
            f"UPDATE {ROWS_TABLE} SET _row = _row + len(list_filter({shifts}, lambda t: t < _row)) "
            f"WHERE _file = ?",
            [name],
        )
        con.executemany(
            f"INSERT INTO {ROWS_TABLE} (_file, _row, _reason) VALUES (?, ?, ?)",
            [[name, line, REJECT_REASONS.get(str(kind), str(kind).lower())] for line, kind in rows],
        )
    con.execute(f"DROP TABLE IF EXISTS {rejects}_e; DROP TABLE IF EXISTS {rejects}_s")


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
        f"escape='\"', max_line_size={MAX_LINE}, ignore_errors=true, "
        f"store_rejects=true, rejects_table={sql_text(rejects + '_e')}, "
        f"rejects_scan={sql_text(rejects + '_s')})"
    )
    event = _csv_column(columns, "event")
    con.execute(f"""
    INSERT INTO {ROWS_TABLE} ({COLUMNS})
    SELECT nullif({_csv_column(columns, 'uuid', 'id')}, ''), nullif({event}, ''),
        nullif({_csv_column(columns, 'distinct_id')}, ''),
        try_cast({_csv_column(columns, 'timestamp')} AS TIMESTAMPTZ),
        nullif({_csv_column(columns, 'person_id')}, ''),
        {_csv_properties(columns, event, nulls)},
        {sql_text(name)}, row_number() OVER () + 1,
        CASE WHEN coalesce({event}, '') = '' THEN {sql_text(bad.NO_EVENT)} END
    FROM {reader}
    """)
    _add_rejects(con, name, rejects)


def count_csv_rows(con: duckdb.DuckDBPyConnection, path: str) -> int:
    row = con.execute(
        f"SELECT count(*) FROM read_csv({sql_text(path)}, header=true, all_varchar=true, "
        "delim=',', quote='\"', escape='\"', ignore_errors=true, "
        f"max_line_size={MAX_LINE})"
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
            WHEN {_needs_normalizing('raw_props', '_tp_keys', '_tp_keys')}
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
    con.execute(screened_insert(select, screen))
