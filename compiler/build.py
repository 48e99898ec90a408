"""Render targets and compare or write their files. The only module that writes generated/."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from compiler.plan.model import Plan
from compiler.targets import Target
from compiler.templating import DEFAULT_SOURCE

# Files a build never owns even inside a target's folder: installs, caches, build products.
IGNORED_PARTS = frozenset(
    {"node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", "dist", "build", ".ruff_cache"}
)


@dataclass(frozen=True)
class Changes:
    added: tuple[PurePosixPath, ...]
    changed: tuple[PurePosixPath, ...]
    removed: tuple[PurePosixPath, ...]
    unchanged: int

    @property
    def stale(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def lines(self) -> list[str]:
        return (
            [f"missing  {p}" for p in self.added]
            + [f"changed  {p}" for p in self.changed]
            + [f"extra    {p}" for p in self.removed]
        )


def plan_source(plan_dir: Path, cwd: Path | None = None) -> str:
    """The plan directory as generated headers name it: as the user gave it when relative, else
    relative to `cwd` when inside it, else its last part, so a header never holds an absolute
    path (and reads the same on every machine). POSIX separators, no `./` or trailing `/`."""
    if not plan_dir.is_absolute():
        text = os.path.normpath(plan_dir)
    else:
        base = (cwd or Path.cwd()).resolve()
        try:
            text = str(plan_dir.resolve().relative_to(base))
        except ValueError:
            text = plan_dir.resolve().name or DEFAULT_SOURCE
    return PurePosixPath(Path(text).as_posix()).as_posix()


def render_all(
    plan: Plan, targets: Iterable[Target], source: str = DEFAULT_SOURCE
) -> dict[PurePosixPath, str]:
    """Every file of `targets`; `source` is the plan directory their headers name."""
    files: dict[PurePosixPath, str] = {}
    for target in targets:
        for path, text in target.render(plan, source).items():
            if path.parts[0] != target.output_dir:
                raise ValueError(
                    f"target {target.name} rendered {path} outside {target.output_dir}/"
                )
            files[path] = text
    return dict(sorted(files.items()))


def _owned_files(out_dir: Path, targets: Iterable[Target]) -> set[PurePosixPath]:
    found = set()
    for target in targets:
        root = out_dir / target.output_dir
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            rel = PurePosixPath(path.relative_to(out_dir).as_posix())
            if (
                path.is_file()
                and not IGNORED_PARTS.intersection(rel.parts)
                and not any(part.endswith(".egg-info") for part in rel.parts)
            ):
                found.add(rel)
    return found


def compare(out_dir: Path, files: dict[PurePosixPath, str], targets: list[Target]) -> Changes:
    """What writing `files` into `out_dir` would add, change and remove."""
    added, changed, unchanged = [], [], 0
    for rel, text in files.items():
        path = out_dir / rel
        if not path.is_file():
            added.append(rel)
        elif path.read_bytes() != text.encode("utf-8"):
            changed.append(rel)
        else:
            unchanged += 1
    removed = sorted(_owned_files(out_dir, targets) - files.keys())
    return Changes(tuple(added), tuple(changed), tuple(removed), unchanged)


def write(out_dir: Path, files: dict[PurePosixPath, str], changes: Changes) -> None:
    """Apply `changes`: write new and changed files, delete files no target renders any more."""
    for rel in (*changes.added, *changes.changed):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel].encode("utf-8"))
    for rel in changes.removed:
        (out_dir / rel).unlink()
