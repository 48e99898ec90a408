"""Production health per event, read from a `trackplan audit --format json` report.

Report shape: {"rows_total", "rows_unparseable", "summary": {kind: n}, "findings": [{"kind",
"event", "property", "count", "examples"}], "events": {event: {"count", "first_seen",
"last_seen", "rows_with_violations"}}}. A malformed report raises AuditReportError naming the
file and the offending field; the CLI turns it into exit 2. `from_audit` builds the same
`Health` from an in-process `AuditResult`. Either may carry a `Profile` of the exports
(compiler/docs/profile.py: persons, daily volume, null rates, observed funnel rates).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from compiler.audit.findings import AuditResult
from compiler.docs.profile import EventProfile, Profile
from compiler.templating import percent


class AuditReportError(ValueError):
    pass


@dataclass(frozen=True)
class Finding:
    kind: str
    event: str | None
    property: str | None
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class EventHealth:
    event: str
    count: int
    first_seen: str | None
    last_seen: str | None
    rows_with_violations: int
    findings: tuple[Finding, ...]  # most frequent first
    profile: EventProfile | None = None  # None: the site was rendered without --export

    @property
    def status(self) -> str:
        """`never seen`, `violations` or `healthy`."""
        if self.count == 0:
            return "never seen"
        return "violations" if self.rows_with_violations or self.findings else "healthy"

    @property
    def violation_share(self) -> str:
        return percent(self.rows_with_violations / self.count) if self.count else "n/a"


@dataclass(frozen=True)
class Health:
    source: str  # the report's file name, for the page footer
    rows_total: int
    rows_unparseable: int
    summary: tuple[tuple[str, int], ...]  # kind, count; sorted by kind
    events: Mapping[str, EventHealth]
    unplanned: tuple[Finding, ...]  # findings on events the plan does not have
    profile: Profile | None = None

    def for_event(self, name: str) -> EventHealth:
        found = self.events.get(name) or EventHealth(name, 0, None, None, 0, ())
        return replace(found, profile=self.profile.for_event(name)) if self.profile else found

    def with_profile(self, profile: Profile) -> Health:
        return replace(self, profile=profile)


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise AuditReportError(f"{where}: {what}")


def _count(value: Any, where: str) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    _need(ok, where, f"must be a non-negative integer, got {json.dumps(value)}")
    return int(value)


def _text(value: Any, where: str) -> str | None:
    _need(value is None or isinstance(value, str), where, "must be a string or null")
    return value  # type: ignore[no-any-return]


def _finding(raw: Any, where: str) -> Finding:
    _need(isinstance(raw, dict), where, "must be an object")
    for key in ("kind", "count"):
        _need(key in raw, where, f"is missing `{key}`")
    kind = _text(raw["kind"], f"{where}.kind")
    _need(bool(kind), f"{where}.kind", "must be a non-empty string")
    examples = raw.get("examples") or []
    _need(isinstance(examples, list), f"{where}.examples", "must be a list")
    return Finding(
        kind=str(kind),
        event=_text(raw.get("event"), f"{where}.event"),
        property=_text(raw.get("property"), f"{where}.property"),
        count=_count(raw["count"], f"{where}.count"),
        examples=tuple(str(e) for e in examples),
    )


def parse_report(document: Any, source: str, plan_events: set[str]) -> Health:
    """Validate a decoded report and index it by event; `source` prefixes every error."""
    _need(isinstance(document, dict), source, "the audit report must be a JSON object")
    for key in ("rows_total", "summary", "findings", "events"):
        _need(key in document, source, f"the audit report is missing `{key}`")
    summary, raw_events = document["summary"], document["events"]
    _need(isinstance(summary, dict), f"{source}: summary", "must be an object")
    _need(isinstance(document["findings"], list), f"{source}: findings", "must be a list")
    _need(isinstance(raw_events, dict), f"{source}: events", "must be an object")
    findings = [_finding(f, f"{source}: findings[{i}]") for i, f in enumerate(document["findings"])]
    stats = {}
    for name in sorted(raw_events):
        raw, where = raw_events[name], f"{source}: events.{name}"
        _need(isinstance(raw, dict), where, "must be an object")
        stats[name] = (
            _count(raw.get("count"), f"{where}.count"),
            _text(raw.get("first_seen"), f"{where}.first_seen"),
            _text(raw.get("last_seen"), f"{where}.last_seen"),
            _count(raw.get("rows_with_violations", 0), f"{where}.rows_with_violations"),
        )
    return _assemble(
        source,
        _count(document["rows_total"], f"{source}: rows_total"),
        _count(document.get("rows_unparseable", 0), f"{source}: rows_unparseable"),
        tuple((str(k), _count(v, f"{source}: summary.{k}")) for k, v in summary.items()),
        findings,
        stats,
        plan_events,
    )


Stats = tuple[int, str | None, str | None, int]  # count, first seen, last seen, violating rows


def _assemble(
    source: str,
    rows_total: int,
    rows_unparseable: int,
    summary: tuple[tuple[str, int], ...],
    findings: list[Finding],
    stats: Mapping[str, Stats],
    plan_events: set[str],
) -> Health:
    findings = sorted(findings, key=lambda f: (-f.count, f.kind, f.property or ""))
    events = {
        name: EventHealth(name, *stats[name], tuple(f for f in findings if f.event == name))
        for name in sorted(stats)
    }
    for name in plan_events - events.keys():
        own = tuple(f for f in findings if f.event == name)
        if own:  # e.g. never_seen: the audit reports it without an events entry
            events[name] = EventHealth(name, 0, None, None, 0, own)
    return Health(
        source=source,
        rows_total=rows_total,
        rows_unparseable=rows_unparseable,
        summary=tuple(sorted(summary)),
        events=dict(sorted(events.items())),
        unplanned=tuple(f for f in findings if f.event and f.event not in plan_events),
    )


def from_audit(result: AuditResult, source: str, plan_events: set[str]) -> Health:
    """The health of an audit run in this process (`source` names the exports)."""
    findings = [
        Finding(f.kind, f.event, f.property, f.count, tuple(f.examples)) for f in result.findings
    ]
    stats = {
        name: (s.count, s.first_seen, s.last_seen, s.rows_with_violations)
        for name, s in result.events.items()
    }
    summary = tuple(result.summary.items())
    return _assemble(
        source, result.rows_total, result.rows_unparseable, summary, findings, stats, plan_events
    )


def read_report(path: Path, plan_events: set[str]) -> Health:
    """Read and validate the report at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditReportError(f"{path}: no such audit report") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditReportError(f"{path}: cannot read the audit report ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AuditReportError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    return parse_report(document, str(path), plan_events)
