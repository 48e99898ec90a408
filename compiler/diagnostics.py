"""Diagnostics as data: every problem found in a plan, with where it is."""

from __future__ import annotations

import difflib
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # context for the diagnostics around it (never counted, never fails a run)


@dataclass(frozen=True, order=True)
class Location:
    """A position in a source file; line and col are 1-based."""

    file: str
    line: int
    col: int

    def display_path(self, base: str | None = None) -> str:
        """The file path relative to `base` (default: the current directory) when inside it."""
        try:
            rel = os.path.relpath(self.file, base or os.getcwd())
        except ValueError:
            return self.file
        return self.file if rel.startswith("..") else rel


@dataclass(frozen=True)
class Diagnostic:
    level: Level
    code: str
    message: str
    location: Location | None = None

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    @property
    def is_warning(self) -> bool:
        return self.level is Level.WARNING

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (
            loc.file if loc else "",
            loc.line if loc else 0,
            loc.col if loc else 0,
            self.code,
            self.message,
        )

    def format(self) -> str:
        """`path:line:col: CODE level: message`."""
        where = "trackplan"
        if self.location:
            loc = self.location
            where = f"{loc.display_path()}:{loc.line}:{loc.col}"
        return f"{where}: {self.code} {self.level.value}: {self.message}"

    def to_json(self) -> dict[str, object]:
        loc = self.location
        return {
            "level": self.level.value,
            "code": self.code,
            "message": self.message,
            "file": loc.display_path() if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
        }


def error(code: str, message: str, location: Location | None = None) -> Diagnostic:
    return Diagnostic(Level.ERROR, code, message, location)


def warning(code: str, message: str, location: Location | None = None) -> Diagnostic:
    return Diagnostic(Level.WARNING, code, message, location)


def note(code: str, message: str, location: Location | None = None) -> Diagnostic:
    return Diagnostic(Level.NOTE, code, message, location)


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like `name`, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(known), n=1)
    return matches[0] if matches else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest known name, or '' (usage errors end with it)."""
    match = closest(name, known)
    return f" Did you mean '{match}'?" if match else ""


def sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, each problem once."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def capped(
    diagnostics: list[Diagnostic], per_code: int = 50
) -> tuple[list[Diagnostic], Counter[str]]:
    """At most `per_code` diagnostics of each code, and how many of each were left out."""
    shown: list[Diagnostic] = []
    seen: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    for diag in diagnostics:
        seen[diag.code] += 1
        if seen[diag.code] <= per_code:
            shown.append(diag)
        else:
            hidden[diag.code] += 1
    return shown, hidden
