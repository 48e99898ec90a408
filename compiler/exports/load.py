"""The rows table every export reader fills, the views over it, and what a screened read adds.

Each reader (`jsonl.py`, `tabular.py`) is one INSERT ... SELECT into ROWS_TABLE over a DuckDB
native reader, PostHog-shaped, bad rows kept with a `_reason` and counted. `create_views` then
names the good rows: `events` (every row with its properties: what every command reads) and
`event_stats`.

A read with a `Screen` (only the audit makes one: `compiler.audit.read`) marks rows it proves
clean and drops the properties no later check reads; its rows are named `audit_events` and
`audit_event_stats` instead, and no `events` view exists after it, so no command can take such
rows for the export. Rows a fast path proved clean before DuckDB read them are kept narrow, as
registered numpy batches (`add_clean_batch`), and joined into the screened view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, NamedTuple

import duckdb

from compiler.exports import report as bad
from compiler.exports.report import NEUTRAL, SCREENED, Views
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

ROWS_VIEW = f"""
SELECT uuid, event, distinct_id, timestamp, person_id, properties, _file, _row, _clean, _seq
FROM {ROWS_TABLE} WHERE _reason IS NULL
"""


ROWS_STATS = f"""
SELECT event, count(*) AS n, min(timestamp) AS first_seen, max(timestamp) AS last_seen
FROM {ROWS_TABLE} WHERE _reason IS NULL GROUP BY event
"""


def create_views(con: duckdb.DuckDBPyConnection, views: Views) -> None:
    """The rows view: the rows table, and a fast path's clean rows if there are any (their
    names by index from list literals: cheaper per query than a join); and the stats view, each
    event's rows, first and last timestamp, the clean rows counted before their names are
    looked up (a tenth of the time on a million rows)."""
    if con.execute(f"SELECT count(*) FROM {CLEAN_TABLE}").fetchone() == (0,):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {views.rows} AS {ROWS_VIEW}")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {views.stats} AS {ROWS_STATS}")
        return
    if views == NEUTRAL:  # narrow rows have no properties: never the neutral view
        raise ValueError("rows proved clean by a fast path belong to a screened read")

    def names(table: str) -> str:
        rows = con.execute(f"SELECT name FROM {table} ORDER BY i").fetchall()
        return "[" + ", ".join(sql_text(str(n)) for (n,) in rows) + "]"

    events = names(EVENT_NAMES)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {views.rows} AS {ROWS_VIEW}
    UNION ALL
    SELECT NULL, {events}[c.event + 1], NULL, make_timestamp(c.ts)::TIMESTAMPTZ,
        NULL, NULL, {names(FILE_NAMES)}[c.file + 1], c._row, true, false
    FROM {CLEAN_TABLE} c""")
    con.execute(f"""
    CREATE OR REPLACE TEMP VIEW {views.stats} AS
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

# A faster reader for a whole JSON Lines file (con, path, name, compression, rejects table): it
# reads the file into the rows table and answers True, or reads nothing and answers False.
JsonlReader = Callable[[duckdb.DuckDBPyConnection, str, str, str | None, str], bool]


class Screen(NamedTuple):
    """SQL over a read row (uuid, event, distinct_id, timestamp, person_id, properties) that
    the audit supplies: `clean` rows need no exact check; a clean row keeps its properties
    only when `keep` says a later check reads them. Rows get `_clean` and `_seq` columns.

    `jsonl`, when given, is tried first on each JSON Lines file (the audit's C line scanner)."""

    clean: Callable[[], str]  # the SQL, built when a row first needs it
    keep: str
    jsonl: JsonlReader | None = None


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


sql_text = quote  # SQL quoting has one place: compiler/funnel/dialects.py
ident = quote_ident


def reset(con: duckdb.DuckDBPyConnection) -> None:
    """Empty tables for a new read, the previous read's clean batches let go, and its views
    dropped: no view of an earlier read survives a new one."""
    try:
        batches = con.execute(f"SELECT name FROM {CLEAN_BATCHES}").fetchall()
    except duckdb.CatalogException:
        batches = []
    for views in (NEUTRAL, SCREENED):
        for view in views:
            # (a table of the caller's by that name is not ours to drop)
            with suppress(duckdb.CatalogException):
                con.execute(f"DROP VIEW IF EXISTS {view}")
    for (name,) in batches:
        con.unregister(str(name))
    con.execute(CREATE_ROWS)


def add_clean_batch(con: duckdb.DuckDBPyConnection, arrays: dict[str, Any], file: int) -> None:
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


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, arrays: dict[str, Any]) -> Iterator[str]:
    """numpy arrays as a DuckDB view for the time of a query."""
    view = "_trackplan_arrays"
    con.register(view, arrays)
    try:
        yield view
    finally:
        con.unregister(view)


def next_rowid(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT coalesce(max(rowid) + 1, 0) FROM {ROWS_TABLE}").fetchone()
    return int(row[0]) if row else 0


def add_rejects(con: duckdb.DuckDBPyConnection, name: str, rejects: str) -> None:
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
