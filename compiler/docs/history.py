"""Per-event change history from git, for `trackplan docs --history`.

Walks `git log -- PLAN_DIR` (newest first, at most `limit` commits), loads the plan at each
commit and at its first parent (`diff.base.materialize`, one load per distinct plan tree),
compares them (`diff.compare`) and gives each change to the events it touches. A commit whose
plan (or whose parent's plan) does not lint is skipped, with its reason; a commit that created
the plan directory lists its events as added. `HistoryError` says, in one line, why there is no
history (not a git repository, git missing). Reads git, never writes; the doc site built by
`trackplan build` never includes it, so generated/ stays deterministic.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from compiler.diff.base import BaseError, materialize
from compiler.diff.compare import compare
from compiler.diff.model import Change
from compiler.gitrepo import GitError, NotARepository, git, repository, resolve
from compiler.plan import load_plan
from compiler.plan.model import Plan

DEFAULT_LIMIT = 50
_SEP = "\x1f"


class HistoryError(Exception):
    """No history can be read: a usage error."""


@dataclass(frozen=True)
class Commit:
    sha: str
    short: str
    date: str  # author date, YYYY-MM-DD
    subject: str


@dataclass(frozen=True)
class EventChange:
    kind: str
    message: str
    breaking: bool
    bump: str


@dataclass(frozen=True)
class HistoryEntry:
    """What one commit changed in one event's contract."""

    commit: Commit
    changes: tuple[EventChange, ...]


@dataclass(frozen=True)
class EventHistory:
    """One event's entries (newest first) and what the walk covered, for its page."""

    event: str
    entries: tuple[HistoryEntry, ...]
    commits: int  # commits read
    truncated: bool  # more commits touch the plan than were read
    skipped: tuple[tuple[str, str], ...]  # (short sha, why) of commits not compared


@dataclass(frozen=True)
class History:
    plan_path: str  # the plan directory relative to the repository root
    commits: tuple[Commit, ...]  # read, newest first
    events: Mapping[str, tuple[HistoryEntry, ...]]
    truncated: bool
    skipped: tuple[tuple[str, str], ...]

    def for_event(self, name: str) -> EventHistory:
        entries = self.events.get(name, ())
        return EventHistory(name, entries, len(self.commits), self.truncated, self.skipped)


def _repository(plan_dir: Path) -> tuple[Path, str]:
    """The repository's root and the plan directory relative to it."""
    try:
        return repository(plan_dir)
    except NotARepository:
        raise HistoryError(
            f"--history: {plan_dir} is not inside a git repository; "
            "the change history is read from git (drop --history, or commit the plan)"
        ) from None


def _commits(root: Path, prefix: str, limit: int) -> tuple[list[Commit], bool]:
    if resolve(root, "HEAD") is None:
        return [], False  # a repository without commits
    fmt = _SEP.join(("%H", "%h", "%ad", "%s"))
    log = git(root, "log", f"-n{limit + 1}", f"--format={fmt}", "--date=short", "--", prefix)
    if not log.ok:
        raise HistoryError(f"git log failed in {root}: {log.error}")
    commits = [Commit(*line.split(_SEP, 3)) for line in log.text.splitlines() if line]
    return commits[:limit], len(commits) > limit


class _Plans:
    """The plan at a revision, loaded once per distinct tree of the plan directory."""

    def __init__(self, root: Path, prefix: str, plan_dir: Path, scratch: Path) -> None:
        self.root, self.prefix, self.plan_dir, self.scratch = root, prefix, plan_dir, scratch
        self.cache: dict[str, Plan | str] = {}

    def at(self, rev: str) -> Plan | str | None:
        """The plan, a reason it cannot be used, or None when the directory is not there."""
        path = f"{rev}:{self.prefix}" if self.prefix != "." else f"{rev}:"
        key = resolve(self.root, path)
        if key is None:
            return None
        if key not in self.cache:
            self.cache[key] = self._load(rev, self.scratch / key)
        return self.cache[key]

    def _load(self, rev: str, scratch: Path) -> Plan | str:
        try:
            base = materialize(rev, self.plan_dir, scratch)
        except BaseError:
            return "holds no plan YAML"
        result = load_plan(base.directory)
        if result.errors:
            count = len(result.errors)
            return f"does not lint: {count} error{'' if count == 1 else 's'}"
        return result.plan


def _created(plan: Plan) -> tuple[Change, ...]:
    return tuple(
        Change("event_added", name, f"event '{name}' added", (name,)) for name in plan.events
    )


def _entries(commit: Commit, changes: tuple[Change, ...]) -> dict[str, HistoryEntry]:
    per_event: dict[str, list[EventChange]] = {}
    for change in changes:
        for event in change.events:
            message = change.message.removeprefix(f"{event}: ")  # the page names the event
            item = EventChange(change.kind, message, change.breaking, change.bump.value)
            per_event.setdefault(event, []).append(item)
    return {e: HistoryEntry(commit, tuple(items)) for e, items in per_event.items()}


def read_history(
    plan_dir: Path,
    limit: int = DEFAULT_LIMIT,
    step: Callable[[int, int], None] | None = None,
) -> History:
    """The change history of every event over the last `limit` commits touching `plan_dir`;
    `step(done, total)` is called after each commit (a progress bar)."""
    try:
        return _read(plan_dir, limit, step)
    except GitError as exc:  # git missing, no plan directory
        raise HistoryError(str(exc)) from None


def _read(plan_dir: Path, limit: int, step: Callable[[int, int], None] | None) -> History:
    root, prefix = _repository(plan_dir)
    commits, truncated = _commits(root, prefix, limit)
    events: dict[str, list[HistoryEntry]] = {}
    skipped: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="trackplan-history-") as scratch:
        plans = _Plans(root, prefix, plan_dir, Path(scratch))
        for done, commit in enumerate(commits, 1):
            new, old = plans.at(commit.sha), plans.at(f"{commit.sha}^")
            if isinstance(new, Plan) and old is None:
                changes = _created(new)
            elif isinstance(new, Plan) and isinstance(old, Plan):
                changes = compare(old, new)
            else:
                if isinstance(new, str):
                    why = f"the plan at this commit {new}"
                elif isinstance(old, str):
                    why = f"the plan before this commit {old}"
                else:
                    why = "the plan directory was removed"
                skipped.append((commit.short, why))
                changes = ()
            for event, entry in _entries(commit, changes).items():
                events.setdefault(event, []).append(entry)
            if step is not None:
                step(done, len(commits))
    return History(
        prefix,
        tuple(commits),
        {e: tuple(entries) for e, entries in sorted(events.items())},
        truncated,
        tuple(skipped),
    )
