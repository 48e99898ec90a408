"""What reading an export found: per-file notes, row counts and unparseable examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# Why a row could not be used. Stable strings: they appear in reports.
INVALID_JSON = "invalid JSON"
NOT_AN_OBJECT = "JSON value is not an object"
INVALID_UTF8 = "invalid UTF-8"
NO_EVENT = "no event name"
BAD_FIELDS = "wrong number of fields"
WRONG_HEADER = "CSV header is not a PostHog events export"


class Views(NamedTuple):
    """The names a read gives its good rows and their per-event statistics."""

    rows: str
    stats: str


NEUTRAL = Views("events", "event_stats")  # every row with its properties
SCREENED = Views("audit_events", "audit_event_stats")  # a screened read's rows (the audit's)


@dataclass
class BadRow:
    file: str
    line: int
    reason: str

    def format(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ExportFile:
    """One input file and how it was read."""

    path: str
    format: str  # posthog-jsonl | parquet | csv | events-api | manifest | empty | missing
    compression: str | None = None
    rows: int = 0
    unparseable: int = 0
    complete: bool = True  # False when only part of the file could be read
    notes: list[str] = field(default_factory=list)
    typed: bool = True  # False when every value arrives as text (the UI CSV)
    failed: bool = False  # nothing could be read: an input error, not a partial read

    @property
    def status(self) -> str:
        if self.format in ("missing", "skipped"):
            return self.format
        return "read fully" if self.complete else "read partly"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "compression": self.compression,
            "rows": self.rows,
            "unparseable": self.unparseable,
            "status": self.status,
            "notes": list(self.notes),
        }


@dataclass
class ExportReport:
    """The outcome of `open_events`: counts add up, `rows_total = rows_ok + rows_unparseable`."""

    files: list[ExportFile] = field(default_factory=list)
    examples: list[BadRow] = field(default_factory=list)  # the first few unparseable rows
    reasons: dict[str, int] = field(default_factory=dict)  # unparseable rows per reason
    views: Views = NEUTRAL  # where the good rows are: `events`, or a screened read's

    @property
    def rows_total(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rows_unparseable(self) -> int:
        return sum(f.unparseable for f in self.files)

    @property
    def rows_ok(self) -> int:
        return self.rows_total - self.rows_unparseable

    @property
    def errors(self) -> list[str]:
        """Input errors that make the run unusable (exit 2): files missing or not readable at all."""
        return [
            f"{f.path}: {'; '.join(f.notes)}"
            for f in self.files
            if f.format == "missing" or f.failed
        ]

    @property
    def partial(self) -> list[ExportFile]:
        return [f for f in self.files if not f.complete]

    @property
    def text_files(self) -> list[str]:
        """Files whose values are all text (numbers arrive as "12")."""
        return [f.path for f in self.files if not f.typed]

    def add_bad(self, file: str, line: int, reason: str, limit: int = 20) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if len(self.examples) < limit:
            self.examples.append(BadRow(file, line, reason))
