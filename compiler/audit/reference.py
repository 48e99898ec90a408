"""The exact reference engine: every row validated in Python against the generated JSON Schemas.

Slow by design and kept simple: it is the definition the DuckDB and SQL engines are tested
against. Each PostHog-shaped row is turned back into the canonical §10 shape (envelope fields
at the top under the plan's names, `$session_id` as `session_id`; PostHog's columns as the
fields with their roles), validated with `event_schema`, and each schema error is classified
into a finding kind.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from compiler.audit import sequence
from compiler.audit.findings import EXAMPLES, EventStats, Finding
from compiler.audit.rules import (
    EMAIL_LIKE,
    FORMAT_PATTERNS,
    INTEGER_TEXT,
    NUMBER_TEXT,
    PHONE_LIKE,
    AuditRules,
    column_of,
    properties_key,
    search,
)
from compiler.exports.report import NEUTRAL, Views
from compiler.targets.jsonschema import event_name_field, event_schema

VALUE_KINDS = {
    "minimum": "constraint_violation",
    "maximum": "constraint_violation",
    "minLength": "constraint_violation",
    "maxLength": "constraint_violation",
    "pattern": "constraint_violation",
    "format": "constraint_violation",
    "enum": "enum_violation",
}


# Every regular expression the audit runs has RE2 semantics, as in DuckDB: the google-re2
# binding, never Python's `re` (whose \d matches any Unicode digit and whose $ matches before a
# final newline).
def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, pattern in FORMAT_PATTERNS.items():

        def check(value: object, pattern: str = pattern) -> bool:
            return not isinstance(value, str) or search(pattern, value)

        checker.checks(name)(check)
    return checker


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


class Overflow:
    """A JSON number beyond a double's range (1e400): no JSON Schema type accepts it, so it is a
    type_mismatch for a number or integer property, as in the SQL engine."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _number(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else Overflow(text)


def _integer(text: str) -> Any:
    value = int(text)
    return value if abs(value) <= 1.7976931348623157e308 else Overflow(text)


def loads(text: str) -> Any:
    """JSON as every engine reads it: overflowing numbers kept apart (see Overflow)."""
    return json.loads(text, parse_float=_number, parse_int=_integer)


# The jsonschema validator with RE2 patterns.
Validator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _pattern}
)


def _coerce(value: Any, type_: str) -> Any:
    """A text-export value as the type the plan expects, when it reads as one."""
    if not isinstance(value, str):
        return value
    if type_ == "integer" and search(INTEGER_TEXT, value):
        return _integer(value)
    if type_ == "number" and search(NUMBER_TEXT, value):
        return _number(value)
    if type_ == "boolean" and value in ("true", "false"):
        return value == "true"
    if type_ == "array" and value.startswith("["):
        try:
            return loads(value)
        except ValueError:
            return value
    return value


class Reference:
    def __init__(self, rules: AuditRules) -> None:
        self.rules = rules
        checker = format_checker()
        self.validators = {
            name: Validator(event_schema(rules.plan, event), format_checker=checker)
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
            # A typed column: valid whenever present, as in the SQL engine.
            doc[fields["timestamp"]] = _FAR if row.timestamp >= _LAST else row.timestamp.isoformat()
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
            elif (
                key not in allowed
                and key not in rules.tolerated
                and key != "$session_id"
                and (rules.strict_system or not key.startswith("$"))
            ):
                found.add(("undocumented_property", key))
        return found

    def row_findings(
        self, row: sequence.Row, props: dict[str, Any], uuid: str | None, text: bool
    ) -> set[tuple[str, str | None]]:
        """Every per-row finding of one row, (kind, property): the audit's and `trackplan
        serve`'s one definition. `text`: the row comes from a text-only export (the UI CSV),
        so values are read as the types the plan expects. Cross-row rules are `sequence`'s."""
        rules = self.rules
        found = pii_findings(rules, props)
        if row.event in rules.plan.events:
            typed = (
                {k: _coerce(v, self.types.get(k, "string")) for k, v in props.items()}
                if text
                else props
            )
            found |= self.schema_findings(row, typed, uuid)
            found |= self.key_findings(row, props)
        elif rules.strict_system or not row.event.startswith("$"):
            found.add(("unknown_event", None))
        return found


def pii_findings(rules: AuditRules, props: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {
        ("pii_leak", key)
        for key, value in props.items()
        if not key.startswith("$")
        and key not in rules.pii
        and isinstance(value, str)
        and (search(EMAIL_LIKE, value) or search(PHONE_LIKE, value))
    }


# A timestamp past Python's datetime range (year 10000 in UTC, from 9999-12-31 with a negative
# offset) is read as the last representable instant.
_LAST = datetime.max.replace(tzinfo=UTC)
_FAR = "9999-12-31T23:59:59.999999+00:00"


def read_rows(
    con: duckdb.DuckDBPyConnection, view: str = "events"
) -> Iterator[tuple[sequence.Row, str | None]]:
    for uuid, event, distinct_id, ts, person_id, props, file, row in con.execute(
        "SELECT uuid, event, distinct_id, timestamp, person_id, properties, _file, _row "
        f"FROM {view} ORDER BY _file, _row"
    ).fetchall():
        ex = uuid if uuid is not None else f"{file}:{row}"
        if ts is not None:
            ts = ts.astimezone(UTC) if isinstance(ts, datetime) else _LAST
        yield sequence.Row(event, ts, file, row, ex, distinct_id, person_id, loads(props)), uuid


def run(
    con: duckdb.DuckDBPyConnection, rules: AuditRules, text_files: list[str], views: Views = NEUTRAL
) -> tuple[list[Finding], dict[str, EventStats]]:
    ref = Reference(rules)
    text = set(text_files)
    grouped: dict[tuple[str, str, str | None], list[str]] = defaultdict(list)
    flagged: set[tuple[str, int]] = set()
    rows: list[sequence.Row] = []
    for row, uuid in read_rows(con, views.rows):
        rows.append(row)
        found = ref.row_findings(row, row.properties, uuid, row.file in text)
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
    return findings, _stats(con, rows, flagged, views.stats)


def _stats(
    con: duckdb.DuckDBPyConnection,
    rows: list[sequence.Row],
    flagged: set[tuple[str, int]],
    stats_view: str,
) -> dict[str, EventStats]:
    """Per event: rows, first and last timestamp (the reader's, as in the SQL engine) and the
    rows with a finding (this engine's)."""
    bad: dict[str, int] = defaultdict(int)
    for r in rows:
        bad[r.event] += (r.file, r.row) in flagged
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return {
        str(event): EventStats(int(n), first, last, bad[str(event)])
        for event, n, first, last in con.execute(
            f"SELECT event, n, strftime(first_seen, '{fmt}'), strftime(last_seen, '{fmt}') "
            f"FROM {stats_view}"
        ).fetchall()
    }
