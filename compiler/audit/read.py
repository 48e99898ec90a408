"""How the audit reads exports: through its screen, and the C line scanner where it can.

`screen_for(plan)` compiles the plan into an `AuditScreen`: the SQL screen (`screen.py`) that
proves a row clean inside DuckDB, the SQL saying which clean rows a cross-row check still reads,
and the C line scanner's tables (`linescan.py`), which prove JSON Lines lines clean before DuckDB
reads them. `open_screened` reads with it into the view `audit_events` (never `events`: see
`compiler.exports`); only the DuckDB engine audits such a view.

The scanner path (`read_scanned`, the screen's `jsonl` reader): most lines are proved clean and
only their event, timestamp and line number go to DuckDB, as numpy batches; clean lines a
cross-row check reads become records of the columns and keys it reads (`_insert_kept`); and
the lines it could not prove go to a file DuckDB reads as any JSON Lines file, through the SQL
screen, whose line numbers are then put back (`_insert_part`).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import duckdb
import numpy as np

from compiler.audit import duck, linescan, scan, screen
from compiler.audit.linescan import ScanTables
from compiler.audit.rules import AuditRules
from compiler.exports import CsvNulls, ExportReport, Screen, load, open_events, read_screened
from compiler.exports.json_text import looks_canonical
from compiler.exports.jsonl import insert_jsonl
from compiler.exports.load import sql_text
from compiler.plan.model import Plan


class AuditScreen(NamedTuple):
    """The plan compiled for reading: `clean` (SQL, built when a row first needs it: with the
    scanner, often never), `keep` (SQL: a clean row a cross-row check reads) and `lines` (the
    scanner's tables; None: the SQL screen alone)."""

    clean: Callable[[], str]
    keep: str
    lines: ScanTables | None = None

    def for_reading(self) -> Screen:
        sql = Screen(self.clean, self.keep)
        if self.lines is None or not scan.available():
            return sql
        return sql._replace(jsonl=functools.partial(read_scanned, tables=self.lines, screen=sql))


def screen_for(plan: Plan, *, strict_system: bool = False) -> AuditScreen:
    """The screen to read exports with before a DuckDB-engine audit: rows it proves clean skip
    the exact checks, and clean rows no cross-row check reads drop their properties."""
    rules = AuditRules(plan, strict_system=strict_system)
    lines = linescan.build(rules) if scan.available() else None
    clean = functools.cache(lambda: screen.clean_sql(rules, duck.columns_ok(rules)))
    return AuditScreen(clean, screen.sequence_sql(rules), lines)


def open_screened(
    con: duckdb.DuckDBPyConnection,
    inputs: Sequence[str],
    audit_screen: AuditScreen | None,
    csv_nulls: CsvNulls | None = None,
) -> ExportReport:
    """Read `inputs` for an audit: through `audit_screen` into `audit_events`, or with None as
    `open_events` reads them (every engine can audit that)."""
    if audit_screen is None:
        return open_events(con, inputs, csv_nulls)
    return read_screened(con, inputs, audit_screen.for_reading(), csv_nulls)


def read_scanned(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    compression: str | None,
    rejects: str,
    *,
    tables: ScanTables,
    screen: Screen,
) -> bool:
    """The fastest path: the C line scanner proves most lines clean (only their event,
    timestamp and line number go to DuckDB), and writes two temp files for the rest: records of
    the clean lines a cross-row check reads (`_insert_kept`), and the lines it could not prove,
    which DuckDB reads as any JSON Lines file, through the SQL screen, and whose line numbers
    are then put back (`_insert_part`)."""
    if compression not in (None, "gzip") or looks_canonical(path, compression):
        return False
    names = {"i": np.arange(len(tables.events), dtype=np.int16), "name": np.array(tables.events)}
    with load.registered(con, names) as view:
        con.execute(
            f"DELETE FROM {load.EVENT_NAMES}; INSERT INTO {load.EVENT_NAMES} SELECT * FROM {view}"
        )
    (file,) = con.execute(f"SELECT count(*) FROM {load.FILE_NAMES}").fetchone() or (0,)
    con.execute(f"INSERT INTO {load.FILE_NAMES} VALUES (?, ?)", [file, name])

    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def insert_clean(event: np.ndarray, ts: np.ndarray, row: np.ndarray) -> None:
        # Gathered into one batch per CLEAN_BATCH rows: each registration costs ~5 ms.
        pending.append((event, ts, row))
        if sum(len(p[0]) for p in pending) >= load.CLEAN_BATCH:
            flush()

    def flush() -> None:
        if pending:
            arrays = {k: np.concatenate([p[n] for p in pending]) for n, k in enumerate("etr")}
            pending.clear()
            load.add_clean_batch(con, arrays, file)

    parts = [tempfile.mkstemp(prefix="trackplan-scan-", suffix=".jsonl") for _ in range(2)]
    try:
        with os.fdopen(parts[0][0], "wb") as kept, os.fdopen(parts[1][0], "wb") as unclear:
            scanned = scan.scan_file(path, tables, kept, unclear, insert_clean, compression)
        flush()
        # Lines proved clean that a cross-row check reads: their records, marked clean.
        _insert_kept(con, parts[0][1], name, scanned)
        # The rest: the SQL screen, then the exact checks, decide.
        _insert_part(con, parts[1][1], name, scanned.unclear_rows, rejects, screen)
    finally:
        for _, part in parts:
            os.unlink(part)
    return True


def _insert_kept(con: duckdb.DuckDBPyConnection, path: str, name: str, scanned: Any) -> None:
    """Read the records `scan.scan_file` wrote for lines proved clean that a cross-row check
    reads (`scan.KEPT_COLUMNS`): a CSV read, with no JSON to parse."""
    if not scanned.kept:
        return
    columns = ", ".join(f"{sql_text(c)}: {sql_text(t)}" for c, t in scan.KEPT_COLUMNS)
    bases = "[" + ", ".join(str(int(b)) for b in scanned.bases) + "]"
    count = con.execute(f"""
    INSERT INTO {load.ROWS_TABLE} ({load.COLUMNS}, _clean, _seq)
    SELECT uuid, event, distinct_id, make_timestamp(ts)::TIMESTAMPTZ, person_id, properties,
        {sql_text(name)}, {bases}[chunk + 1] + line, NULL, true, true
    FROM read_csv({sql_text(path)}, delim = E'\\x01', quote = '', escape = '', header = false,
        nullstr = E'\\x02', auto_detect = false, max_line_size = {load.MAX_LINE},
        columns = {{{columns}}})""").fetchone()
    if count is None or count[0] != scanned.kept:  # the scanner wrote every one of them
        raise duckdb.InvalidInputException(f"{name}: {scanned.kept} kept lines, read {count}")


def _insert_part(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    rows: np.ndarray,
    rejects: str,
    screen: Screen,
) -> None:
    """Read the lines the scanner copied to `path`; line k of it is line rows[k - 1] of `name`."""
    if not len(rows):
        return
    part = name + load.SCAN_PART  # its own name: nothing done by file touches other rows
    first = load.next_rowid(con)
    insert_jsonl(con, path, part, None, rejects, screen, lines=len(rows))
    with load.registered(con, {"k": np.arange(1, len(rows) + 1), "r": rows}) as lines:
        con.execute(f"""
        UPDATE {load.ROWS_TABLE} SET _row = {lines}.r, _file = {sql_text(name)} FROM {lines}
        WHERE {load.ROWS_TABLE}.rowid >= {first} AND {load.ROWS_TABLE}._row = {lines}.k
        """)
