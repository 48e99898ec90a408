"""The audit's fixed vocabulary of finding kinds, their severity, and the result document."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any

# Fixed: other tools read these names. Order is the order reports list them in.
KINDS = (
    "unparseable_row",
    "unknown_event",
    "missing_required_property",
    "type_mismatch",
    "enum_violation",
    "constraint_violation",
    "null_violation",
    "undocumented_property",
    "deprecated_property",
    "wrong_source",
    "missing_envelope_field",
    "sequence_violation",
    "identity_violation",
    "pii_leak",
    "never_seen",
)
LEVELS = ("error", "warning", "info")
SEVERITY = {kind: "error" for kind in KINDS} | {
    "undocumented_property": "warning",
    "deprecated_property": "warning",
    "never_seen": "info",
}
EXAMPLES = 3  # example row ids kept per finding: the smallest, so every engine keeps the same


@dataclass
class Sample:
    """A distinct offending value of a finding, how many rows carry it, and the rule in words."""

    value: Any
    count: int
    rule: str

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count, "rule": self.rule}


@dataclass
class Finding:
    kind: str
    event: str | None
    property: str | None
    count: int
    examples: list[str] = field(default_factory=list)
    detail: str | None = None  # e.g. the replacement of a deprecated name
    # Filled in by `compiler.audit.samples.annotate` (the reports), never by the engines:
    samples: list[Sample] = field(default_factory=list)  # the most frequent offending values
    rule: str | None = None  # the rule broken, in words
    suggestion: str | None = None  # e.g. the plan event an unknown event most looks like

    @builtins.property
    def severity(self) -> str:
        return SEVERITY[self.kind]

    def sort_key(self) -> tuple[int, str, str]:
        return (KINDS.index(self.kind), self.event or "", self.property or "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "event": self.event,
            "property": self.property,
            "count": self.count,
            "examples": self.examples,
            "severity": self.severity,
        }
        if self.detail:
            out["detail"] = self.detail
        if self.rule is not None:
            out["rule"] = self.rule
            out["samples"] = [s.to_json() for s in self.samples]
        if self.suggestion is not None:
            out["suggestion"] = self.suggestion
        return out


@dataclass
class EventStats:
    count: int
    first_seen: str | None
    last_seen: str | None
    rows_with_violations: int

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "rows_with_violations": self.rows_with_violations,
        }


@dataclass
class AuditResult:
    rows_total: int
    rows_unparseable: int
    findings: list[Finding]
    events: dict[str, EventStats]
    engine: str
    files: list[dict[str, Any]] = field(default_factory=list)
    system_rows: int = 0

    @property
    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for finding in self.findings:
            out[finding.kind] = out.get(finding.kind, 0) + finding.count
        return {k: out[k] for k in KINDS if k in out}

    def failing(self, fail_on: str) -> list[Finding]:
        """Findings at or above `fail_on` (error, warning, info; `none` never fails)."""
        if fail_on == "none":
            return []
        limit = LEVELS.index(fail_on)
        return [f for f in self.findings if LEVELS.index(f.severity) <= limit]

    def to_json(self) -> dict[str, Any]:
        return {
            "rows_total": self.rows_total,
            "rows_unparseable": self.rows_unparseable,
            "summary": self.summary,
            "findings": [f.to_json() for f in sorted(self.findings, key=Finding.sort_key)],
            "events": {name: self.events[name].to_json() for name in sorted(self.events)},
            "system_rows": self.system_rows,
            "engine": self.engine,
            "files": self.files,
        }
