"""Read PostHog exports (every format) into one DuckDB view, `events`, in PostHog's shape.

`open_events(con, inputs)` takes files, globs, directories, manifests or `-` (stdin),
auto-detects each file's format and creates the temp view `events`, every good row with its
properties, whoever asks:

    uuid VARCHAR, event VARCHAR, distinct_id VARCHAR, timestamp TIMESTAMPTZ (UTC),
    person_id VARCHAR (NULL when absent), properties VARCHAR (a JSON object as text),
    _file VARCHAR, _row BIGINT (1-based line or row in its file),
    _clean BOOLEAN, _seq BOOLEAN (always NULL here)

and `event_stats` (event, n, first_seen, last_seen). The audit's fast paths read through
`read_screened` with a `load.Screen` (see `compiler.audit.read`): such a read names its rows
`audit_events` (clean rows no cross-row check reads keep no properties there) and leaves no
`events` view behind.

The plan's envelope fields (source, environment, user_id, experiment_variant) sit inside
`properties` and the session id as `$session_id`, as PostHog stores them; canonical §10 rows are
moved into that shape. Rows that cannot be used are counted in the returned `ExportReport`
(never dropped silently), with file:line examples, and each file says whether it was read fully.
The connection's TimeZone is set to UTC.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import duckdb

from compiler.exports import load
from compiler.exports.detect import Prepared, prepare
from compiler.exports.json_text import register_functions
from compiler.exports.jsonl import insert_jsonl
from compiler.exports.load import Screen
from compiler.exports.report import (
    NEUTRAL,
    SCREENED,
    WRONG_HEADER,
    BadRow,
    ExportFile,
    ExportReport,
    Views,
)
from compiler.exports.sources import Source, expand
from compiler.exports.tabular import (
    count_csv_rows,
    csv_columns,
    csv_has_events_header,
    insert_csv,
    insert_parquet,
)

__all__ = [
    "BadRow",
    "CsvNulls",
    "ExportFile",
    "ExportReport",
    "Screen",
    "Views",
    "open_events",
    "read_screened",
]

CsvNulls = Mapping[str, Collection[str]]


def _api_to_jsonl(path: Path, workdir: Path) -> Path:
    """An events API page as JSON Lines, one result per line, in order."""
    with path.open("rb") as handle:
        document = json.load(handle)
    target = workdir / f"{len(list(workdir.iterdir()))}.api.jsonl"
    with target.open("w", encoding="utf-8") as out:
        for result in document.get("results", []):
            out.write(json.dumps(result, separators=(",", ":")) + "\n")
    return target


def _read_one(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    workdir: Path,
    n: int,
    csv_nulls: CsvNulls,
    screen: Screen | None,
) -> ExportFile:
    if source.missing_reason is not None:
        return ExportFile(source.name, "missing", complete=False, notes=[source.missing_reason])
    if source.skipped_reason is not None:
        return ExportFile(source.name, "skipped", notes=[source.skipped_reason])
    try:
        prepared = prepare(source.path, source.name, workdir)
    except OSError as exc:
        return ExportFile(source.name, "missing", complete=False, notes=[exc.strerror or str(exc)])
    info = ExportFile(source.name, prepared.format, prepared.compression)
    if prepared.partial_note:
        info.complete = False
        info.notes.append(prepared.partial_note)
    try:
        rejects = f"_trackplan_rejects_{n}"
        _dispatch(con, prepared, source.name, workdir, rejects, info, csv_nulls, screen)
    except (duckdb.Error, ValueError, OSError) as exc:
        load.discard(con, source.name)  # no partial file: its rows would pass for all of it
        # One unreadable file found in a directory is reported, and the rest audited; a file
        # named on the command line fails the run.
        info.complete, info.failed = False, not source.in_directory
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        message = message.replace(str(prepared.path), source.name)  # no temp paths
        info.notes.append(f"could not read as {info.format}: {message}")
    return info


def _dispatch(
    con: duckdb.DuckDBPyConnection,
    prepared: Prepared,
    name: str,
    workdir: Path,
    rejects: str,
    info: ExportFile,
    csv_nulls: CsvNulls,
    screen: Screen | None,
) -> None:
    path = str(prepared.path)
    if prepared.format == "empty":
        info.notes.append("empty file: no rows")
    elif prepared.format == "unsupported":
        info.complete, info.failed = False, True
        info.notes.append(
            f"{prepared.compression} compression is not supported; decompress it first "
            "(gzip, zstd and brotli are read directly)"
        )
    elif prepared.format == "parquet":
        info.format = "posthog-parquet"
        insert_parquet(con, path, name, screen)
    elif prepared.format == "csv":
        _read_csv(con, path, name, rejects, info, csv_nulls)
    elif prepared.format == "events-api":
        api = _api_to_jsonl(prepared.path, workdir)
        insert_jsonl(con, str(api), name, None, rejects, screen)
    else:
        info.format = "posthog-jsonl"
        insert_jsonl(con, path, name, prepared.codec, rejects, screen)


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: str,
    name: str,
    rejects: str,
    info: ExportFile,
    csv_nulls: CsvNulls,
) -> None:
    info.format, info.typed = "posthog-csv", False
    columns = csv_columns(con, path)
    if csv_has_events_header(columns):
        insert_csv(con, path, name, columns, rejects, csv_nulls)
        return
    rows = count_csv_rows(con, path)
    info.complete = False
    shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
    info.notes.append(
        f"{WRONG_HEADER} (expected *.uuid, *.event, *.distinct_id, *.properties.<key>, "
        f"*.timestamp; found {shown}): its {rows} row(s) count as unparseable"
    )
    con.execute(
        f"INSERT INTO {load.ROWS_TABLE} (_file, _row, _reason) "
        "SELECT ?, range + 2, ? FROM range(?)",
        [name, WRONG_HEADER, rows],
    )


def _tally(con: duckdb.DuckDBPyConnection, report: ExportReport) -> None:
    counts = {
        str(f): (int(total), int(failed))
        for f, total, failed in con.execute(load.FILE_ROWS).fetchall()
    }
    for info in report.files:
        info.rows, info.unparseable = counts.get(info.path, (0, 0))
        if info.unparseable:
            info.notes.append(f"{info.unparseable} of {info.rows} row(s) unparseable")
    report.reasons = {
        str(r): int(n)
        for r, n in con.execute(
            f"SELECT _reason, count(*) FROM {load.ROWS_TABLE} WHERE _reason IS NOT NULL "
            "GROUP BY _reason ORDER BY _reason"
        ).fetchall()
    }
    report.examples = [
        BadRow(str(f), int(line), str(reason))
        for f, line, reason in con.execute(
            f"SELECT _file, _row, _reason FROM {load.ROWS_TABLE} WHERE _reason IS NOT NULL "
            "ORDER BY _file, _row LIMIT 20"
        ).fetchall()
    ]


def open_events(
    con: duckdb.DuckDBPyConnection, inputs: Sequence[str], csv_nulls: CsvNulls | None = None
) -> ExportReport:
    """Read every input into the temp view `events`; return what was read and what was not.

    `csv_nulls` maps an event to the properties whose empty CSV cell means null rather than
    absent (a CSV cannot tell them apart); see `compiler.audit.rules.csv_nulls`."""
    return _read(con, inputs, csv_nulls, None, NEUTRAL)


def read_screened(
    con: duckdb.DuckDBPyConnection,
    inputs: Sequence[str],
    screen: Screen,
    csv_nulls: CsvNulls | None = None,
) -> ExportReport:
    """Read every input as `open_events` does, through `screen` (`compiler.audit.read`): rows
    are marked clean as they are read and lose the properties nobody will read, so they go to
    the view `audit_events` (and `audit_event_stats`), and no `events` view is left."""
    return _read(con, inputs, csv_nulls, screen, SCREENED)


def _read(
    con: duckdb.DuckDBPyConnection,
    inputs: Sequence[str],
    csv_nulls: CsvNulls | None,
    screen: Screen | None,
    views: Views,
) -> ExportReport:
    con.execute("SET TimeZone = 'UTC'")
    load.reset(con)
    register_functions(con)
    report = ExportReport(views=views)
    workdir = Path(tempfile.mkdtemp(prefix="trackplan-export-"))
    try:
        for n, source in enumerate(expand(inputs, workdir)):
            report.files.append(_read_one(con, source, workdir, n, csv_nulls or {}, screen))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load.create_views(con, views)
    _tally(con, report)
    return report
