"""JSON Lines (plain or gzip) through the C line scanner (`compiler/_linescan.c`), in parallel.

A plain file is mapped, and a gzip stream read into a few reused buffers, in chunks cut at line
ends, so a 5 GB file never sits in memory; two threads scan chunks (the scanner releases the
GIL). Each line comes out as
clean (its event index and timestamp are all the audit still needs), blank, kept (clean, but a
cross-row check reads it: its columns and properties go to a file of records DuckDB reads
without parsing JSON) or for DuckDB (copied, in file order, to a file the ordinary reader
reads).
"""

from __future__ import annotations

import mmap
import os
import stat
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from queue import Queue
from typing import IO, Any, Protocol

import numpy as np

from compiler.exports.detect import open_lines

try:
    from compiler import _linescan  # type: ignore[attr-defined]
except ImportError:  # built by `pip install`; without a C compiler the SQL screen does it all
    _linescan = None

CHUNK = 32 << 20
WORKERS = max(1, min(4, os.cpu_count() or 1))  # buffers in flight: WORKERS + 2
TO_DUCKDB, CLEAN, BLANK, KEPT = 0, 1, 2, 3  # a line's status (see _linescan.c)


def available() -> bool:
    return _linescan is not None


@dataclass
class Scanned:
    """What `scan_file` wrote: `kept` records (see `KEPT_COLUMNS`) number their lines within
    a chunk; chunk c's first line is line `bases[c] + 1` of the file. `unclear_rows`: the
    original line number of each line of the `unclear` file."""

    kept: int
    bases: np.ndarray
    unclear_rows: np.ndarray


# The fields of a record `_linescan.kept` writes for a KEPT line, separated by \x01, \x02 for a
# null (no plain line holds a control byte, so DuckDB reads them as CSV without quoting). Its
# properties keep only the keys a cross-row check reads (`AuditRules.cross_row_keys`).
KEPT_COLUMNS = (
    ("chunk", "INTEGER"),
    ("line", "BIGINT"),
    ("uuid", "VARCHAR"),
    ("event", "VARCHAR"),
    ("distinct_id", "VARCHAR"),
    ("ts", "BIGINT"),
    ("person_id", "VARCHAR"),
    ("properties", "VARCHAR"),
)


# Called per chunk with the clean rows: event index, timestamp in µs, 1-based line number.
OnClean = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


def scan_bytes(
    data: bytes | bytearray | memoryview, tables: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(status, event index, timestamp µs, line start offset) per line of `data`.

    The outputs are sized for lines of 256 bytes or more (PostHog's are longer); the scanner
    stops when they are full and goes on from there into larger ones."""
    size, at, parts = len(data), 0, []
    capacity = size // 256 + 64
    while True:
        outputs = (
            np.empty(capacity, dtype=np.uint8),
            np.empty(capacity, dtype=np.int16),
            np.empty(capacity, dtype=np.int64),
            np.empty(capacity, dtype=np.int64),
        )
        lines, at = _linescan.scan(data, tables.tables, tables.params, outputs, at)
        parts.append(tuple(o[:lines] for o in outputs))
        if at >= size:
            break
        capacity = (size - at) // 16 + 64
    if len(parts) == 1:
        return parts[0]  # type: ignore[return-value]
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]


def _scan_chunk(tables: Any, buffer: Any, start: int, end: int, chunk: int) -> tuple[Any, ...]:
    view = memoryview(buffer)[start:end]
    try:
        status, event, ts, offsets = scan_bytes(view, tables)
        kept = np.flatnonzero(status == KEPT)
        unclear = np.flatnonzero(status == TO_DUCKDB)
        texts = (
            _linescan.kept(view, offsets, kept, ts, chunk, tables.kept_keys),
            _linescan.gather(view, offsets, unclear),
        )
    finally:
        view.release()
    clean = np.flatnonzero(status == CLEAN)
    return len(status), clean, event[clean], ts[clean], len(kept), unclear, texts


def _chunks(handle: _Readable, free: Queue[bytearray]) -> Iterator[tuple[bytearray, int]]:
    """(buffer, size) holding whole lines, read into buffers taken from `free`; a buffer grows
    when one line does not fit in it."""
    carry = b""
    while True:
        buffer = free.get()
        buffer[: len(carry)] = carry  # (grows the buffer if the carried line is longer)
        size, end = len(carry), False
        while True:
            if size == len(buffer):
                buffer.extend(bytes(len(buffer)))
            read = handle.readinto(memoryview(buffer)[size:])
            if not read:
                end = True
                break
            size += read
            if buffer.rfind(b"\n", size - read, size) >= 0:
                break
        if size == 0:
            return
        cut = size if end else buffer.rfind(b"\n", 0, size) + 1
        carry = bytes(buffer[cut:size])
        yield buffer, cut
        if end and not carry:
            return


def _windows(path: str, size: int) -> Iterator[tuple[mmap.mmap, int, int]]:
    """(map, start, end): whole lines of an uncompressed file, mapped CHUNK bytes at a time
    with MAP_POPULATE, so the kernel maps the cached pages at once (a fault per 4 KiB page cost
    0.5 s on 500 MB) and nothing is copied (a read of 500 MB costs 0.1 s). A window grows when
    one line does not fit in it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        at, width = 0, CHUNK
        while at < size:
            base = at - at % mmap.ALLOCATIONGRANULARITY
            length = min(at - base + width, size - base)
            window = mmap.mmap(
                fd,
                length,
                flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
                prot=mmap.PROT_READ,
                offset=base,
            )
            last = base + length == size
            cut = length if last else window.rfind(b"\n", at - base) + 1
            if cut <= at - base:  # no line end in the window: a longer line; map more
                window.close()
                width *= 2
                continue
            yield window, at - base, cut
            at, width = base + cut, CHUNK
    finally:
        os.close(fd)


class _Readable(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


def scan_file(
    path: str,
    tables: Any,
    kept: IO[bytes],
    unclear: IO[bytes],
    on_clean: OnClean,
    compression: str | None = None,
) -> Scanned:
    """Scan `path` (plain, or gzip: see `open_lines`) with `tables`
    (`compiler.audit.linescan.ScanTables`): clean rows go to `on_clean` chunk by chunk (so they
    never pile up); clean lines a cross-row check reads go to `kept` as records of their
    columns and properties (`KEPT_COLUMNS`), and the lines DuckDB must check to `unclear`.

    The main thread maps an uncompressed file window by window (`_windows`), or reads a gzip
    stream into a few reused buffers; the workers scan them, and results are taken in file
    order."""
    bases, unclear_rows = [], []
    total = kept_total = 0
    pending: deque[tuple[Any, Future[Any]]] = deque()
    # Only a regular file can be mapped (its size is its length); a pipe is read.
    mapped = (
        compression is None
        and hasattr(mmap, "MAP_POPULATE")
        and stat.S_ISREG(os.stat(path).st_mode)
    )
    free: Queue[bytearray] = Queue()

    def release(buffer: Any) -> None:
        if mapped:
            buffer.close()
        else:
            free.put(buffer)

    def collect() -> None:
        nonlocal total, kept_total
        buffer, future = pending.popleft()
        try:
            lines, clean, event, ts, keep, other, (keep_text, other_text) = future.result()
        finally:
            release(buffer)
        if len(clean):
            on_clean(event, ts, clean + total + 1)
        bases.append(total)
        kept_total += keep
        unclear_rows.append(other + total + 1)
        kept.write(keep_text)
        unclear.write(other_text)
        total += lines

    with ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(WORKERS))
        if mapped:
            pieces: Iterator[tuple[Any, int, int]] = _windows(path, os.path.getsize(path))
        else:
            size = CHUNK if compression else min(CHUNK, os.path.getsize(path) + 1)
            for _ in range(WORKERS + 2):
                free.put(bytearray(size))
            handle = open_lines(path, compression)
            stack.callback(handle.close)
            pieces = ((buffer, 0, cut) for buffer, cut in _chunks(handle, free))
        try:
            for chunk, (buffer, start, end) in enumerate(pieces):
                work = pool.submit(_scan_chunk, tables, buffer, start, end, chunk)
                pending.append((buffer, work))
                if len(pending) > WORKERS:
                    collect()
            while pending:
                collect()
        finally:
            for buffer, work in pending:  # after an error: let the workers finish first
                work.exception()
                release(buffer)
    return Scanned(
        kept_total,
        np.array(bases, dtype=np.int64),
        np.concatenate(unclear_rows) if unclear_rows else np.empty(0, dtype=np.int64),
    )
