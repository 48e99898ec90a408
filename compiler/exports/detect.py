"""Which export format a file holds, and a readable plain copy where DuckDB cannot cope.

DuckDB reads plain, gzip (multi-member) and zstd text natively. A truncated gzip makes it fail
the whole query, so gzip files are checked first by streaming them through zlib (C speed, no
Python row loop); a truncated one is cut to its readable prefix in a temp file and reported as
read partly. Brotli has no DuckDB reader: it is decompressed to a temp file, streaming.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Prepared:
    """A file ready for DuckDB: `path` is plain text unless `compression` names a native codec."""

    path: Path
    format: str  # jsonl | events-api | parquet | csv | empty | unsupported
    compression: str | None  # as found on disk
    partial_note: str | None = None
    native: bool = True  # False when `path` is a decompressed copy

    @property
    def codec(self) -> str | None:
        """The compression DuckDB must undo when reading `path`."""
        return self.compression if self.native else None


def _gzip_intact(path: Path) -> bool:
    """Stream every gzip member through zlib; False when the last one is cut off or corrupt."""
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    in_member = False
    try:
        with path.open("rb") as raw:
            while chunk := raw.read(CHUNK):
                data = chunk
                while data:
                    decomp.decompress(data)
                    in_member = True
                    if decomp.eof:
                        data, in_member = decomp.unused_data, False
                        decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    else:
                        data = b""
    except zlib.error:
        return False
    return not in_member


def _zstd_intact(path: Path) -> bool:
    """Walk every zstd frame's block headers (no decompression); False when the file ends inside
    a frame. DuckDB reads a truncated zstd file up to the cut without a word."""
    with path.open("rb") as raw:
        data_end = raw.seek(0, 2)
        raw.seek(0)

        def take(n: int) -> bytes:
            chunk = raw.read(n)
            if len(chunk) != n:
                raise EOFError
            return chunk

        try:
            while raw.tell() < data_end:
                magic = int.from_bytes(take(4), "little")
                if magic & 0xFFFFFFF0 == 0x184D2A50:  # a skippable frame
                    raw.seek(int.from_bytes(take(4), "little"), 1)
                    continue
                if magic != 0xFD2FB528:
                    return False
                descriptor = take(1)[0]
                single = descriptor >> 5 & 1
                size_flag = descriptor >> 6
                header = (0 if single else 1) + (0, 1, 2, 4)[descriptor & 3]
                header += (single, 2, 4, 8)[size_flag]
                take(header)
                last = False
                while not last:
                    block = int.from_bytes(take(3), "little")
                    last, kind, size = bool(block & 1), block >> 1 & 3, block >> 3
                    if kind == 3:
                        return False
                    raw.seek(1 if kind == 1 else size, 1)
                    if raw.tell() > data_end:
                        return False
                if descriptor >> 2 & 1:
                    take(4)
        except EOFError:
            return False
    return True


def _gunzip_prefix(path: Path, target: Path) -> int:
    """Write the readable prefix of a (truncated or corrupt) multi-member gzip to `target`."""
    written = 0
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with path.open("rb") as raw, target.open("wb") as out:
        try:
            while chunk := raw.read(CHUNK):
                data = chunk
                while data:
                    piece = decomp.decompress(data)
                    out.write(piece)
                    written += len(piece)
                    if decomp.eof:
                        data = decomp.unused_data
                        decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    else:
                        data = b""
        except zlib.error:
            pass
    return written


def _unbrotli(path: Path, target: Path) -> str | None:
    import brotli  # type: ignore[import-untyped]

    decomp = brotli.Decompressor()
    with path.open("rb") as raw, target.open("wb") as out:
        try:
            while chunk := raw.read(CHUNK):
                out.write(decomp.process(chunk))
        except brotli.error as exc:
            return f"brotli stream is corrupt ({exc}); read up to the damage"
    if not decomp.is_finished():
        return "brotli stream is truncated; read up to where it ends"
    return None


def _first_line(path: Path, compression: str | None) -> bytes:
    if compression == "gzip":
        import gzip

        with gzip.open(path, "rb") as handle:
            try:
                return handle.readline(CHUNK)
            except (EOFError, OSError, zlib.error):
                return b""
    with path.open("rb") as handle:
        return handle.readline(CHUNK)


def _text_format(path: Path, name: str, compression: str | None) -> str:
    line = _first_line(path, compression).strip()
    if not line:
        return "jsonl"
    if line.startswith(b"{"):
        try:
            first = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            first = None
        if isinstance(first, dict) and isinstance(first.get("results"), list):
            return "events-api"
        if first is None and compression is None and _is_api_document(path):
            return "events-api"
        return "jsonl"
    plain = name
    for suffix in (".gz", ".gzip", ".zst", ".zstd", ".br"):
        plain = plain.removesuffix(suffix)
    if line.startswith((b"[", b'"')) or plain.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if plain.endswith(".csv") or b"," in line:
        return "csv"
    # Neither JSON nor a CSV header: read as JSON Lines, so every line is counted unparseable
    # (with its line number) rather than the whole file failing a CSV sniff.
    return "jsonl"


def _is_api_document(path: Path) -> bool:
    """A pretty-printed events API page: one JSON document with a `results` list."""
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except (ValueError, UnicodeDecodeError, OSError):
        return False
    return isinstance(document, dict) and isinstance(document.get("results"), list)


def prepare(path: Path, name: str, workdir: Path) -> Prepared:
    """Detect the format of `path` and make it readable by DuckDB."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if not head:
        return Prepared(path, "empty", None)
    if head == PARQUET_MAGIC:
        return Prepared(path, "parquet", None)
    if head[:2] == GZIP_MAGIC:
        if _gzip_intact(path):
            return Prepared(path, _text_format(path, name, "gzip"), "gzip")
        target = workdir / f"{len(list(workdir.iterdir()))}.plain"
        produced = _gunzip_prefix(path, target)
        note = f"gzip stream is truncated or corrupt; read the first {produced} decompressed bytes"
        return Prepared(target, _text_format(target, name, None), "gzip", note, native=False)
    if name.endswith((".lz4", ".sz")):
        return Prepared(path, "unsupported", name.rsplit(".", 1)[-1])
    if head == ZSTD_MAGIC:
        cut = None if _zstd_intact(path) else "zstd stream is truncated; read up to where it ends"
        return Prepared(path, "jsonl", "zstd", cut)
    if name.endswith(".br"):
        target = workdir / f"{len(list(workdir.iterdir()))}.plain"
        damage = _unbrotli(path, target)
        return Prepared(target, _text_format(target, name, None), "brotli", damage, native=False)
    return Prepared(path, _text_format(path, name, None), None)


def open_lines(path: str, compression: str | None) -> gzip.GzipFile | io.FileIO:
    """The file's bytes, a gzip stream (one member or many) decompressed as it is read."""
    if compression == "gzip":
        return gzip.GzipFile(path, "rb")
    return io.FileIO(path, "rb")
