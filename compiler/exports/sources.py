"""Input arguments to concrete files: several files, globs, directories, manifests and stdin.

PostHog's batch exports may write `{start}-{end}_manifest.json` files listing the parts
(`{"files": [...]}`); a manifest stands for its parts, and a part named both directly and in a
manifest is read once.
"""

from __future__ import annotations

import glob
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

EXPORT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".gz", ".br", ".zst", ".parquet", ".csv")
MANIFEST_SUFFIX = "_manifest.json"
STDIN = "-"


@dataclass(frozen=True)
class Source:
    path: Path  # where the bytes are (a temp file for stdin, a fifo or a device)
    name: str  # what messages call it
    missing_reason: str | None = None
    in_directory: bool = False  # found by listing a directory or a glob: it cannot fail the run
    skipped_reason: str | None = None  # in a directory, not read (its name is no export's)


def _listed_in_manifest(manifest: Path) -> list[Source] | str:
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"unreadable manifest: {exc}"
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return 'manifest has no "files" list of names'
    out = []
    for entry in files:
        # Manifests name bucket keys; the parts sit beside the manifest once downloaded.
        candidates = [manifest.parent / entry, manifest.parent / Path(entry).name]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            out.append(
                Source(candidates[-1], str(candidates[-1]), f"listed in {manifest} but missing")
            )
        else:
            out.append(Source(found, str(found)))
    return out


def _directory_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """(export files, other files) under `directory`, hidden ones left out."""
    files = sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )
    exports = [p for p in files if p.name.endswith(EXPORT_SUFFIXES) or ".parquet" in p.name]
    chosen = set(exports)
    return exports, [p for p in files if p not in chosen]


SKIPPED = "skipped: not an export file name (" + ", ".join(EXPORT_SUFFIXES) + ")"


def _sources_for(argument: str, workdir: Path) -> list[Source] | None:
    if any(ch in argument for ch in "*?["):
        paths = [Path(p) for p in sorted(glob.glob(argument, recursive=True)) if Path(p).is_file()]
        return [Source(p, str(p), in_directory=True) for p in paths]
    path = Path(argument)
    if path.is_dir():
        exports, others = _directory_files(path)
        out = [Source(p, str(p), in_directory=True) for p in exports]
        return out + [Source(p, str(p), skipped_reason=SKIPPED) for p in others]
    if path.is_file():
        return [Source(path, str(path))]
    if path.exists():  # a fifo, /dev/stdin, /dev/null: read once into a seekable copy
        try:
            with path.open("rb") as handle:
                copy = _copy(handle, workdir, f"special-{len(list(workdir.iterdir()))}")
        except OSError as exc:
            return [Source(path, argument, exc.strerror or str(exc))]
        return [Source(copy, argument)]
    return None


def _copy(handle: BinaryIO, workdir: Path, name: str) -> Path:
    target = workdir / name
    with target.open("wb") as out:
        shutil.copyfileobj(handle, out, 1 << 20)
    return target


def stdin_copy(workdir: Path) -> Path:
    """Copy standard input to a file, so every reader sees a seekable path."""
    return _copy(sys.stdin.buffer, workdir, "stdin")


def expand(inputs: Sequence[str], workdir: Path) -> list[Source]:
    """Concrete sources in a stable order, each file once; missing ones carry the reason."""
    sources: list[Source] = []
    for argument in inputs:
        if argument == STDIN:
            sources.append(Source(stdin_copy(workdir), "<stdin>"))
            continue
        found = _sources_for(argument, workdir)
        if found is None:
            sources.append(Source(Path(argument), argument, "no such file or directory"))
            continue
        if not [f for f in found if f.skipped_reason is None]:
            sources.append(Source(Path(argument), argument, "matched no files"))
        for source in found:
            path = source.path
            if path.name.endswith(MANIFEST_SUFFIX) and source.skipped_reason is None:
                listed = _listed_in_manifest(path)
                if isinstance(listed, str):
                    sources.append(Source(path, str(path), listed))
                else:
                    sources.extend(listed)
            else:
                sources.append(source)
    seen: set[Path] = set()
    unique = []
    for source in sources:
        key = source.path.resolve() if source.missing_reason is None else Path(source.name)
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique
