"""The exact reference engine: every row validated in Python against the generated JSON Schemas.

Slow by design and kept simple: it is the definition the DuckDB and SQL engines are tested
against. Each PostHog-shaped row is turned back into the canonical §10 shape (envelope fields
at the top under the plan's names, `$session_id` as `session_id`; PostHog's columns as the
fields with their roles), validated with `event_schema`, and each schema error is classified
into a finding kind.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import duckdb
from jsonschema import Draft202012Validator, FormatChecker

from compiler.audit import sequence
from compiler.audit.findings import EXAMPLES, EventStats, Finding
from compiler.audit.rules import (
    EMAIL_LIKE,
    FORMAT_PATTERNS,
    INTEGER_TEXT,
    PHONE_LIKE,
    AuditRules,
    column_of,
    properties_key,
)
from compiler.targets.jsonschema import event_name_field, event_schema

NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
VALUE_KINDS = {
    "minimum": "constraint_violation",
    "maximum": "constraint_violation",
    "minLength": "constraint_violation",
    "maxLength": "constraint_violation",
    "pattern": "constraint_violation",
    "format": "constraint_violation",
    "enum": "enum_violation",
}


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, pattern in FORMAT_PATTERNS.items():
        compiled = re.compile(pattern)

        def check(value: object, compiled: re.Pattern[str] = compiled) -> bool:
            return not isinstance(value, str) or compiled.search(value) is not None

        checker.checks(name)(check)
    return checker


def _coerce(value: Any, type_: str) -> Any:
    """A text-export value as the type the plan expects, when it reads as one."""
    if not isinstance(value, str):
        return value
    if type_ == "integer" and re.search(INTEGER_TEXT, value):
        return int(value)
    if type_ == "number" and re.search(NUMBER_TEXT, value):
        return float(value)
    if type_ == "boolean" and value in ("true", "false"):
        return value == "true"
    if type_ == "array" and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Reference:
    def __init__(self, rules: AuditRules) -> None:
        self.rules = rules
        checker = format_checker()
        self.validators = {
            name: Draft202012Validator(event_schema(rules.plan, event), format_checker=checker)
            for name, event in rules.plan.events.items()
        }
        self.types = {r.key: r.prop.type for r in rules.keys}
        plan = rules.plan
        self.top_in_properties = {
            properties_key(f): f.name
            for f in plan.envelope
            if f.placement == "top" and column_of(f) is None
        }
        self.envelope_names = {f.name for f in plan.envelope}
        # PostHog's columns -> the plan's names of the fields they hold.
        self.column_fields = {column_of(f): f.name for f in plan.envelope if column_of(f)}
        self.event_field = event_name_field(plan)
        source = plan.role("source")
        self.source_enum = (source.property.enum or ()) if source is not None else ()
        self.source_path = (
            None
            if rules.source_name is None or source is None
            else (
                [rules.source_name]
                if source.placement == "top"
                else ["properties", rules.source_name]
            )
        )

    def canonical(
        self, row: sequence.Row, props: dict[str, Any], uuid: str | None
    ) -> dict[str, Any]:
        inner = dict(props)
        doc: dict[str, Any] = {self.event_field: row.event}
        for key, name in self.top_in_properties.items():
            if key in inner:
                doc[name] = inner.pop(key)
        fields = self.column_fields
        if row.distinct_id is not None and "distinct_id" in fields:
            doc[fields["distinct_id"]] = row.distinct_id
        if row.timestamp is not None and "timestamp" in fields:
            doc[fields["timestamp"]] = row.timestamp.astimezone(UTC).isoformat()
        if uuid is not None and "uuid" in fields:
            doc[fields["uuid"]] = uuid
        doc["properties"] = inner
        return doc

    def schema_findings(
        self, row: sequence.Row, props: dict[str, Any], uuid: str | None
    ) -> set[tuple[str, str | None]]:
        doc = self.canonical(row, props, uuid)
        found: set[tuple[str, str | None]] = set()
        for error in self.validators[row.event].iter_errors(doc):
            path = list(error.absolute_path)
            if error.validator == "required":
                missing = [n for n in error.validator_value if n not in error.instance]
                inside = path == ["properties"]
                for name in missing:
                    envelope = not inside or name in self.envelope_names
                    found.add(
                        (
                            "missing_envelope_field" if envelope else "missing_required_property",
                            name,
                        )
                    )
                continue
            if error.validator == "additionalProperties":
                continue  # decided below from the key lists, as every engine does
            name = str(path[1] if path and path[0] == "properties" and len(path) > 1 else path[0])
            if error.validator == "type":
                kind = (
                    "null_violation"
                    if error.instance is None and len(path) <= 2
                    else "type_mismatch"
                )
            elif error.validator == "enum" and path == self.source_path:
                in_plan = error.instance in self.source_enum
                kind = "wrong_source" if in_plan else "enum_violation"
            else:
                kind = VALUE_KINDS[str(error.validator)]
            if len(path) > 2 and kind == "null_violation":
                kind = "type_mismatch"
            found.add((kind, name))
        typed = {p for k, p in found if k in ("null_violation", "type_mismatch")}
        return {
            (k, p)
            for k, p in found
            if k
            in (
                "null_violation",
                "type_mismatch",
                "missing_envelope_field",
                "missing_required_property",
            )
            or p not in typed
        }

    def key_findings(self, row: sequence.Row, props: dict[str, Any]) -> set[tuple[str, str | None]]:
        rules, found = self.rules, set[tuple[str, str | None]]()
        allowed = rules.allowed_keys(row.event)
        for key in props:
            if key in rules.deprecated:
                found.add(("deprecated_property", key))
            elif key not in allowed and key not in rules.tolerated and key != "$session_id":
                if rules.strict_system or not key.startswith("$"):
                    found.add(("undocumented_property", key))
        return found


def pii_findings(rules: AuditRules, props: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {
        ("pii_leak", key)
        for key, value in props.items()
        if not key.startswith("$")
        and key not in rules.pii
        and isinstance(value, str)
        and (re.search(EMAIL_LIKE, value) or re.search(PHONE_LIKE, value))
    }


def read_rows(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[sequence.Row, str | None]]:
    for uuid, event, distinct_id, ts, person_id, props, file, row in con.execute(
        "SELECT uuid, event, distinct_id, timestamp, person_id, properties, _file, _row "
        "FROM events ORDER BY _file, _row"
    ).fetchall():
        ex = uuid if uuid is not None else f"{file}:{row}"
        yield sequence.Row(
            event, ts, file, row, ex, distinct_id, person_id, json.loads(props)
        ), uuid


def run(
    con: duckdb.DuckDBPyConnection, rules: AuditRules, text_files: list[str]
) -> tuple[list[Finding], dict[str, EventStats]]:
    ref = Reference(rules)
    text = set(text_files)
    grouped: dict[tuple[str, str, str | None], list[str]] = defaultdict(list)
    flagged: set[tuple[str, int]] = set()
    rows: list[sequence.Row] = []
    for row, uuid in read_rows(con):
        rows.append(row)
        props = row.properties
        found = pii_findings(rules, props)
        if row.event in rules.plan.events:
            typed = (
                {k: _coerce(v, ref.types.get(k, "string")) for k, v in props.items()}
                if row.file in text
                else props
            )
            found |= ref.schema_findings(row, typed, uuid)
            found |= ref.key_findings(row, props)
        elif rules.strict_system or not row.event.startswith("$"):
            found.add(("unknown_event", None))
        for kind, prop in found:
            grouped[(kind, row.event, prop)].append(row.ex)
        if found:
            flagged.add((row.file, row.row))
    for r, kind, prop in sequence.python_violations(rows, rules):
        grouped[(kind, r.event, prop)].append(r.ex)
        flagged.add((r.file, r.row))
    findings = [
        Finding(kind, event, prop, len(exs), sorted(exs)[:EXAMPLES])
        for (kind, event, prop), exs in grouped.items()
    ]
    return findings, _stats(rows, flagged)


def _stats(rows: list[sequence.Row], flagged: set[tuple[str, int]]) -> dict[str, EventStats]:
    stats: dict[str, EventStats] = {}
    per: dict[str, list[sequence.Row]] = defaultdict(list)
    for r in rows:
        per[r.event].append(r)
    for event, items in per.items():
        times = [r.timestamp.astimezone(UTC) for r in items if r.timestamp is not None]
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        stats[event] = EventStats(
            len(items),
            min(times).strftime(fmt) if times else None,
            max(times).strftime(fmt) if times else None,
            sum(1 for r in items if (r.file, r.row) in flagged),
        )
    return stats
