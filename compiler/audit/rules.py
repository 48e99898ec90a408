"""The plan seen as audit rules over PostHog-shaped rows: which key is checked how, for which event.

Every engine (the DuckDB query, the ClickHouse/HogQL SQL, the jsonschema reference) reads the
plan only through this module, so they check the same things. The shape follows the exports
reader: `event`, `distinct_id`, `timestamp`, `uuid` are PostHog's columns, holding the envelope
fields with the roles event_name, distinct_id, timestamp and event_id (whatever the plan calls
them); the other envelope fields live inside `properties`, under their PostHog names (the session
id as `$session_id`). Role-specific checks (wrong_source, the identity rule's user id) use the
field that plays the role, and are left out when the plan has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import re2  # type: ignore[import-untyped]

from compiler.plan.model import EnvelopeField, Plan, Property, SequenceRule

# PostHog's columns by the envelope role whose value they hold: the export format's own names.
ROLE_COLUMNS = {
    "event_name": "event",
    "distinct_id": "distinct_id",
    "timestamp": "timestamp",
    "event_id": "uuid",
}

# RFC 3339 full-date, calendar-checked in the regex itself (days per month, leap years: a year
# divisible by 4 and not by 100, or by 400), so every engine, the SQL and any DFA, agrees.
_DAY_31 = "(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
_DAY_30 = "(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
_DAY_28 = "02-(?:0[1-9]|1[0-9]|2[0-8])"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
FULL_DATE = f"(?:[0-9]{{4}}-(?:{_DAY_31}|{_DAY_30}|{_DAY_28})|{_LEAP_YEAR}-02-29)"
# RFC 3339 date-time: T or t, seconds 00-60, an optional fraction, Z/z or a +hh:mm/-hh:mm offset.
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?"
_OFFSET = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"

# Format checks, identical in every engine: RE2 patterns (the reference engine runs them with
# the google-re2 binding, DuckDB natively); each is linear time.
FORMAT_PATTERNS = {
    "date-time": f"^{FULL_DATE}[Tt]{_TIME}{_OFFSET}$",
    "date": f"^{FULL_DATE}$",
    "email": r"^[^@\s]+@[^@\s]+$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}
# What a PII leak looks like in a property not marked pii: an email address anywhere in the
# value, or a value that is a phone number written with + or separators (bare digit strings
# are ids: Meta campaign ids are 18 digits).
EMAIL_LIKE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
PHONE_LIKE = r"^(\+[0-9][0-9 ().-]{6,18}[0-9]|\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4})$"
INTEGER_TEXT = r"^-?[0-9]+$"  # how an integer looks in a text-only export (the UI CSV)
NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"  # and a number


_compiled: dict[str, Any] = {}


def compile_re2(pattern: str) -> Any:
    """`pattern` compiled with RE2 (the google-re2 binding), the one regex dialect of every
    engine: DuckDB's regexp functions are RE2 too. Raises re2.error when RE2 cannot compile it."""
    compiled = _compiled.get(pattern)
    if compiled is None:
        options = re2.Options()
        options.log_errors = False
        compiled = _compiled[pattern] = re2.compile(pattern, options)
    return compiled


def search(pattern: str, text: str) -> bool:
    """RE2 `pattern` found in `text` (JSON Schema's unanchored search; `.` is one character,
    `\\d` `\\s` `\\w` are ASCII, `$` is the very end)."""
    return compile_re2(pattern).search(text) is not None


@dataclass(frozen=True)
class KeyRule:
    """One key inside `properties` and the events that use it."""

    key: str  # the name inside properties ($session_id for session_id)
    name: str  # the plan's name, used in findings
    prop: Property
    allowed: frozenset[str]  # events whose schema has this key
    required: frozenset[str]  # events that must carry it
    non_null: frozenset[str]  # events where null is not allowed even if the property is nullable
    envelope: bool

    def nullable_for(self, event: str) -> bool:
        return self.prop.nullable and event not in self.non_null


@dataclass(frozen=True)
class ColumnRule:
    """An envelope field that is a column (its role's: distinct_id, timestamp, uuid)."""

    name: str  # the plan's name, used in findings
    prop: Property
    required: bool
    column: str  # PostHog's column holding it


def column_of(field: EnvelopeField) -> str | None:
    """The PostHog column holding `field`, or None when it lives inside `properties`."""
    return ROLE_COLUMNS.get(field.role or "")


def properties_key(field: EnvelopeField) -> str:
    """The key inside `properties` PostHog stores a non-column envelope field under."""
    return field.posthog_name or field.name


class AuditRules:
    """The plan's audit rules, built once per run."""

    def __init__(self, plan: Plan, *, strict_system: bool = False) -> None:
        self.plan = plan
        self.strict_system = strict_system

    @cached_property
    def keys(self) -> tuple[KeyRule, ...]:
        plan = self.plan
        out: dict[str, KeyRule] = {}
        every = frozenset(plan.events)
        for field in plan.envelope:
            if column_of(field) is not None:
                continue
            required = (
                every
                if field.required
                else frozenset(
                    e.name for e in plan.events.values() if field.name in e.envelope_required
                )
            )
            key = properties_key(field)
            non_null = frozenset(
                e.name for e in plan.events.values() if field.name in e.envelope_required
            )
            out[key] = KeyRule(key, field.name, field.property, every, required, non_null, True)
        for event in plan.events.values():
            for ep in event.properties:
                for prop in (ep.property, *plan.deprecated_aliases(ep.name)):
                    rule = out.get(prop.name) or KeyRule(
                        prop.name, prop.name, prop, frozenset(), frozenset(), frozenset(), False
                    )
                    required = rule.required | (
                        {event.name} if ep.required and prop is ep.property else set()
                    )
                    out[prop.name] = KeyRule(
                        rule.key,
                        rule.name,
                        rule.prop,
                        rule.allowed | {event.name},
                        frozenset(required),
                        rule.non_null,
                        rule.envelope,
                    )
        return tuple(sorted(out.values(), key=lambda r: r.key))

    @cached_property
    def columns(self) -> tuple[ColumnRule, ...]:
        out = []
        for field in self.plan.envelope:
            column = column_of(field)
            if column is not None and column != "event":
                out.append(ColumnRule(field.name, field.property, field.required, column))
        return tuple(out)

    def _in_properties(self, role: str) -> EnvelopeField | None:
        """The envelope field playing `role`, when it lives inside `properties`."""
        field = self.plan.role(role)
        return field if field is not None and column_of(field) is None else None

    @cached_property
    def source_name(self) -> str | None:
        """The field holding the sending layer (role source): wrong_source checks it."""
        field = self._in_properties("source")
        return field.name if field is not None else None

    @cached_property
    def source_key(self) -> str | None:
        field = self._in_properties("source")
        return properties_key(field) if field is not None else None

    @cached_property
    def user_name(self) -> str | None:
        """The field holding the signed-in user's id (role user_id): identity rules read it."""
        field = self._in_properties("user_id")
        return field.name if field is not None else None

    @cached_property
    def user_key(self) -> str | None:
        field = self._in_properties("user_id")
        return properties_key(field) if field is not None else None

    @cached_property
    def tolerated(self) -> frozenset[str]:
        """Non-$ keys the SDKs add, never undocumented."""
        return frozenset(self.plan.conventions.sdk_properties)

    @cached_property
    def deprecated(self) -> dict[str, str]:
        """Deprecated property name -> its replacement."""
        return {p.name: p.replaced_by or "" for p in self.plan.properties.values() if p.deprecated}

    @cached_property
    def pii(self) -> frozenset[str]:
        return frozenset(p.name for p in self.plan.properties.values() if p.pii)

    @cached_property
    def cross_row_events(self) -> frozenset[str]:
        """Events a cross-row check (sequence or identity rule) reads, whatever they hold."""
        plan = self.plan
        events = {"$identify", "$create_alias"}
        for rule in plan.sequence_rules.values():
            events |= set(rule.events) | set(rule.requires_before)
        if plan.identity is not None:
            events.add(plan.identity.stitch_on)
        return frozenset(events)

    @property
    def cross_row_keys(self) -> frozenset[str]:
        """The properties keys a cross-row check reads (`sequence.py`): a clean row of a
        cross-row event needs no other."""
        # $identify and $create_alias carry PostHog's own keys; plan events the user id.
        keys = {"$anon_distinct_id", "distinct_id", "alias"}
        keys |= {self.user_key} if self.user_key is not None else set()
        keys |= {r.match_on for r in self.keyed_rules}
        return frozenset(keys)

    @property
    def keyed_rules(self) -> list[SequenceRule]:
        """The sequence rules matched on a property (an order or job id, ...) rather than on the person."""
        return [r for r in self.plan.sequence_rules.values() if r.match_on != "person"]

    @cached_property
    def _allowed_by_event(self) -> dict[str, frozenset[str]]:
        events = frozenset().union(*(r.allowed for r in self.keys))
        return {e: frozenset(r.key for r in self.keys if e in r.allowed) for e in events}

    def allowed_keys(self, event: str) -> frozenset[str]:
        """The property keys `event` may carry (built once per event: the reference engine and
        `serve` ask for every row)."""
        return self._allowed_by_event.get(event, frozenset())

    def is_system_event(self, event: str) -> bool:
        return event.startswith("$")

    def source_layers(self, event: str) -> tuple[str, ...]:
        return self.plan.events[event].layers

    def replacement(self, event: str) -> str | None:
        dep = self.plan.deprecated_events.get(event)
        return dep.replaced_by if dep else None


def csv_nulls(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Per event, the required properties the plan allows to be null. In a CSV export an empty
    cell is all that is left of a null, so the reader reads these as null, not as missing."""
    out = {}
    for event in plan.events.values():
        names = tuple(ep.name for ep in event.required if ep.property.nullable)
        if names:
            out[event.name] = names
    return out
