"""Each captured event judged with the audit's rules: the same finding kinds, the same words.

An event is first put in the shape a PostHog export gives it (`uuid`, `event`, `distinct_id`,
`timestamp`, `properties`), filling what PostHog's ingestion fills: a uuid when the SDK sent
none, the receive time when the timestamp is missing or unreadable. Then the reference
engine's `row_findings` gives the per-row findings and `History` the cross-row ones; each
finding gets the rule in words the audit's report gives (`compiler.audit.samples`).
"""

from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from compiler.audit import linescan, scan
from compiler.audit.findings import KINDS, LEVELS, SEVERITY, Finding
from compiler.audit.reference import Reference
from compiler.audit.rules import FORMAT_PATTERNS, AuditRules, search
from compiler.audit.samples import (
    KEY_KINDS,
    VALUE_KINDS,
    Checked,
    explain_column,
    explain_key,
    explain_value,
    masked,
    shown,
    static_rule,
    suggestion,
)
from compiler.audit.sequence import Row
from compiler.plan.model import Plan
from compiler.serve.history import History

_COMPACT: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":")}


def _never_clean(value: Any) -> Any:
    """A number past a double's range (reference.Overflow) as a value no scanner calls clean:
    the exact checks decide."""
    return {"$overflow": str(value)}


@dataclass(frozen=True)
class Violation:
    kind: str
    property: str | None
    severity: str
    message: str
    suggestion: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "property": self.property,
            "severity": self.severity,
            "message": self.message,
        }
        if self.suggestion is not None:
            out["suggestion"] = self.suggestion
        return out


@dataclass
class Verdict:
    """One event as PostHog would store it, and what the plan says about it."""

    row: dict[str, Any]  # uuid, event, distinct_id, timestamp, properties
    findings: list[Violation] = field(default_factory=list)
    bad: bool = False


def _timestamp(event: dict[str, Any], now: datetime) -> datetime:
    value = event.get("timestamp")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    offset = event.get("offset")
    if isinstance(offset, (int, float)) and not isinstance(offset, bool) and 0 <= offset < 1e10:
        return now - timedelta(milliseconds=offset)
    return now


def posthog_row(event: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The event as PostHog stores it (and as `trackplan audit` reads an export row)."""
    props = event.get("properties") or {}
    distinct = event.get("distinct_id", props.get("distinct_id", event.get("$distinct_id")))
    uuid = event.get("uuid")
    return {
        "uuid": str(uuid) if uuid is not None else str(uuidlib.uuid4()),
        "event": event["event"],
        "distinct_id": None if distinct is None else str(distinct),
        "timestamp": _timestamp(event, now).isoformat().replace("+00:00", "Z"),
        "properties": props,
    }


class LiveValidator:
    def __init__(
        self, plan: Plan, *, strict_system: bool = False, fail_on: str = "error", fast: bool = True
    ) -> None:
        self.plan = plan
        self.rules = AuditRules(plan, strict_system=strict_system)
        self.reference = Reference(self.rules)
        self.history = History(self.rules)
        self.limit = LEVELS.index(fail_on)
        self.seen = 0
        self.scan_tables = linescan.build(self.rules) if scan.available() and fast else None

    def check(self, event: dict[str, Any], now: datetime | None = None) -> Verdict:
        return self.check_many([event], now)[0]

    def check_many(
        self, events: list[dict[str, Any]], now: datetime | None = None
    ) -> list[Verdict]:
        """The events of one request, in order. Rows the audit's C line scanner proves clean
        (as it does for an export) skip the exact per-row checks; the rest get them."""
        now = now or datetime.now(UTC)
        rows = [posthog_row(event, now) for event in events]
        proven = self._proven_clean(rows)
        return [self._judge(row, clean) for row, clean in zip(rows, proven, strict=True)]

    def _proven_clean(self, rows: list[dict[str, Any]]) -> list[bool]:
        if self.scan_tables is None:
            return [False] * len(rows)
        lines = "".join(json.dumps(r, **_COMPACT, default=_never_clean) + "\n" for r in rows)
        status = scan.scan_bytes(lines.encode("utf-8"), self.scan_tables)[0]
        return [int(s) in (scan.CLEAN, scan.KEPT) for s in status]

    def _judge(self, row: dict[str, Any], clean: bool) -> Verdict:
        self.seen += 1
        at = datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00"))
        props = row["properties"]
        live = Row(
            row["event"], at, "live", self.seen, row["uuid"], row["distinct_id"], None, props
        )
        found = set() if clean else self.reference.row_findings(live, props, row["uuid"], False)
        found |= set(self.history.violations(live))
        findings = [
            self._violation(kind, row, prop)
            for kind, prop in sorted(found, key=lambda f: (KINDS.index(f[0]), f[1] or ""))
        ]
        bad = any(LEVELS.index(f.severity) <= self.limit for f in findings)
        return Verdict(row, findings, bad)

    def unchecked(self, event: dict[str, Any], now: datetime | None = None) -> Verdict:
        """The event stored as good without a check (`--no-validate`, the benchmark's baseline)."""
        return Verdict(posthog_row(event, now or datetime.now(UTC)))

    def _violation(self, kind: str, row: dict[str, Any], prop: str | None) -> Violation:
        finding = Finding(kind, row["event"], prop, 1, [row["uuid"]])
        words = self._words(kind, row, prop) or static_rule(finding, self.plan, self.rules)
        hint = suggestion(finding, self.plan, self.rules)
        return Violation(kind, prop, SEVERITY[kind], words, hint)

    def _words(self, kind: str, row: dict[str, Any], name: str | None) -> str | None:
        """The rule in words for this event's own value, as the audit's samples give it."""
        if name is None or kind not in VALUE_KINDS | KEY_KINDS:
            return None
        rules, event, props = self.rules, row["event"], row["properties"]
        key_rule = next((r for r in rules.keys if r.name == name), None)
        column = next((c for c in rules.columns if c.name == name), None)
        if kind in KEY_KINDS:
            value = props.get(name)
            found = [(kind, w) for w in [explain_key(kind, name, value, rules)] if w]
        elif column is not None:
            value = row[column.column]
            found = explain_column(column, self._checked(value, column.prop.pattern, column))
        elif key_rule is not None and key_rule.key in props:
            value = props[key_rule.key]
            checked = self._checked(value, key_rule.prop.pattern, key_rule)
            found = explain_value(key_rule, event, checked, rules)
        else:
            return None
        words = next((w for k, w in found if k == kind), None)
        if words is None:
            return None
        private = (key_rule is not None and key_rule.prop.pii) or name in rules.pii
        hidden = masked(value)
        if private and hidden == value and isinstance(value, str):
            hidden = "•••"
        return words.replace(shown(value), shown(hidden)) if hidden != value else words

    @staticmethod
    def _checked(value: Any, pattern: str | None, rule: Any) -> Checked:
        text = value if isinstance(value, str) else None
        fmt = FORMAT_PATTERNS.get(rule.prop.format or "")
        return Checked(
            value,
            False,
            None if pattern is None or text is None else search(pattern, text),
            None if fmt is None or text is None else search(fmt, text),
        )

    def reset(self) -> None:
        self.history.clear()
