"""Write rows as a PostHog batch export, the format chosen by the file name.

- `.jsonl` / `.jsonl.gz`: one object per line with uuid, timestamp, created_at, event,
  properties (nested), distinct_id, elements_chain "", person_id, person_properties. Gzip is
  written without a name or time in its header, so the same rows give the same bytes.
- `.parquet`: the same columns; properties and person_properties as JSON strings, timestamp and
  created_at as TIMESTAMP(us, UTC). Needs pyarrow (`pip install 'trackplan[parquet]'`).
- `.csv`: the PostHog UI's events export: `*.uuid, *.event, *.properties.<key>..., *.timestamp,
  *.team_id, *.distinct_id, *.elements_chain, *.created_at, *.person_mode`, all text, CRLF. It
  has no person_id: readers stitch persons from `$identify`.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from compiler.synth.timeline import Row

FORMATS = (".jsonl", ".jsonl.gz", ".parquet", ".csv")


class ExportError(ValueError):
    pass


def export_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise ExportError(f"{path}: unknown export format; the name must end in {', '.join(FORMATS)}")


def isos(stamps: Iterable[int]) -> list[str]:
    """PostHog's timestamp text, 2026-01-01T10:00:00.123456+00:00, for a chunk at once."""
    arr = np.fromiter(stamps, dtype=np.int64).astype("datetime64[us]")
    return [text + "+00:00" for text in np.datetime_as_string(arr, unit="us").tolist()]


def _json_lines(rows: list[Row]) -> bytes:
    stamps, created = isos(r[0] for r in rows), isos(r[7] for r in rows)
    return b"".join(
        _json_line(row, t, c) + b"\n" for row, t, c in zip(rows, stamps, created, strict=True)
    )


def _json_line(row: Row, timestamp: str, created_at: str) -> bytes:
    _t, uuid, event, distinct_id, person_id, props, person_props, _created = row
    return orjson.dumps(
        {
            "uuid": uuid,
            "timestamp": timestamp,
            "created_at": created_at,
            "event": event,
            "properties": props,
            "distinct_id": distinct_id,
            "elements_chain": "",
            "person_id": person_id,
            "person_properties": person_props,
        }
    )


def write_export(path: Path, chunks: Iterable[list[Row]]) -> int:
    """Write every chunk to `path`; returns the number of events written."""
    kind = export_format(path)
    if kind == ".parquet":
        return _write_parquet(path, chunks)
    if kind == ".csv":
        return _write_csv(path, chunks)
    count = 0
    with path.open("wb") as raw:
        sink: Any = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=5)
            if kind == ".jsonl.gz"
            else raw
        )
        for rows in chunks:
            sink.write(_json_lines(rows) if rows else b"")
            count += len(rows)
        if sink is not raw:
            sink.close()
    return count


def _write_parquet(path: Path, chunks: Iterable[list[Row]]) -> int:
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise ExportError(
            "writing .parquet needs pyarrow: pip install 'trackplan[parquet]'"
        ) from None
    ts = pa.timestamp("us", tz="UTC")
    schema = pa.schema(
        [
            ("uuid", pa.string()),
            ("timestamp", ts),
            ("created_at", ts),
            ("event", pa.string()),
            ("properties", pa.string()),
            ("distinct_id", pa.string()),
            ("elements_chain", pa.string()),
            ("person_id", pa.string()),
            ("person_properties", pa.string()),
        ]
    )
    count = 0

    def dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for rows in chunks:
            if not rows:
                continue
            columns = list(zip(*rows, strict=True))
            arrays = [
                pa.array(columns[1], pa.string()),
                pa.array(columns[0], pa.int64()).cast(ts),
                pa.array(columns[7], pa.int64()).cast(ts),
                pa.array(columns[2], pa.string()),
                pa.array([dumps(p) for p in columns[5]], pa.string()),
                pa.array(columns[3], pa.string()),
                pa.array([""] * len(rows), pa.string()),
                pa.array(columns[4], pa.string()),
                pa.array([dumps(p) for p in columns[6]], pa.string()),
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(rows)
    return count


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _write_csv(path: Path, chunks: Iterable[list[Row]]) -> int:
    rows = [row for chunk in chunks for row in chunk]  # the columns depend on every row's keys
    keys = sorted({k for row in rows for k in row[5]})
    header = ["*.uuid", "*.event", *(f"*.properties.{k}" for k in keys)]
    header += [
        "*.timestamp",
        "*.team_id",
        "*.distinct_id",
        "*.elements_chain",
        "*.created_at",
        "*.person_mode",
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(header)
        stamps, created = isos(r[0] for r in rows), isos(r[7] for r in rows)
        for row, t, made in zip(rows, stamps, created, strict=True):
            values = [_text(row[5].get(k)) for k in keys]
            out.writerow([row[1], row[2], *values, t, "1", row[3], "", made, "full"])
    return len(rows)
