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

EXPORT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".gz", ".br", ".zst", ".parquet", ".csv")
MANIFEST_SUFFIX = "_manifest.json"
STDIN = "-"


@dataclass(frozen=True)
class Source:
    path: Path  # where the bytes are (a temp file for stdin)
    name: str  # what messages call it
    missing_reason: str | None = None


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


def _directory_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
        and (p.name.endswith(EXPORT_SUFFIXES) or ".parquet" in p.name)
    )


def _paths_for(argument: str) -> list[Path] | None:
    if any(ch in argument for ch in "*?["):
        return [Path(p) for p in sorted(glob.glob(argument, recursive=True)) if Path(p).is_file()]
    path = Path(argument)
    if path.is_dir():
        return _directory_files(path)
    if path.is_file():
        return [path]
    return None


def stdin_copy(workdir: Path) -> Path:
    """Copy standard input to a file, so every reader sees a seekable path."""
    target = workdir / "stdin"
    with target.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    return target


def expand(inputs: Sequence[str], workdir: Path) -> list[Source]:
    """Concrete sources in a stable order, each file once; missing ones carry the reason."""
    sources: list[Source] = []
    for argument in inputs:
        if argument == STDIN:
            sources.append(Source(stdin_copy(workdir), "<stdin>"))
            continue
        paths = _paths_for(argument)
        if paths is None:
            sources.append(Source(Path(argument), argument, "no such file or directory"))
            continue
        if not paths:
            sources.append(Source(Path(argument), argument, "matched no files"))
        for path in paths:
            if path.name.endswith(MANIFEST_SUFFIX):
                listed = _listed_in_manifest(path)
                if isinstance(listed, str):
                    sources.append(Source(path, str(path), listed))
                else:
                    sources.extend(listed)
            else:
                sources.append(Source(path, str(path)))
    seen: set[Path] = set()
    unique = []
    for source in sources:
        key = source.path.resolve() if source.missing_reason is None else Path(source.name)
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique
