"""What a person needs to act on a finding: the rule it broke in words, its most frequent
offending values with their counts, and for a misspelt name the plan's closest one.

Runs after an engine, on the same rows view (`events`, or a screened read's), for the findings already found: each finding
knows its event, property and kind, so one grouped query per (event, property) reads the
distinct values, most frequent first, and each value is checked again here against the
property's rule until the finding's rows are accounted for or `SAMPLES` values are found.
Rows the screen proved clean may carry no properties in the view; an offending row is never
proved clean, so the values this reads are all there.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from compiler.audit.findings import AuditResult, Finding, Sample
from compiler.audit.reference import Overflow, loads
from compiler.audit.rules import (
    EMAIL_LIKE,
    FORMAT_PATTERNS,
    INTEGER_TEXT,
    NUMBER_TEXT,
    PHONE_LIKE,
    AuditRules,
    ColumnRule,
    KeyRule,
    search,
)
from compiler.diagnostics import closest
from compiler.funnel.dialects import json_path
from compiler.funnel.dialects import quote as sql_text
from compiler.plan.model import Plan, Property

SAMPLES = 5  # distinct offending values kept per finding, the most frequent first
SHOWN = 60  # characters of a value shown in a rule's words
VALUE_KINDS = frozenset(
    {"type_mismatch", "enum_violation", "constraint_violation", "null_violation", "wrong_source"}
)
KEY_KINDS = frozenset({"undocumented_property", "deprecated_property", "pii_leak"})
FORMAT_WORDS = {
    "date-time": "an RFC 3339 date-time",
    "date": "a date (YYYY-MM-DD)",
    "email": "an email address",
    "uri": "a URI",
    "uuid": "a UUID",
}


def shown(value: Any) -> str:
    """A JSON value as a rule quotes it: strings in single quotes, the rest as JSON."""
    if isinstance(value, str):
        text = value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"
        return "'" + text + "'"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def number(value: float) -> Any:
    """1.0 as 1, for the words."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def listed(values: Iterable[Any]) -> str:
    return "[" + ", ".join(str(v) if isinstance(v, str) else shown(v) for v in values) + "]"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else "a number out of range"
    if isinstance(value, Overflow):
        return "a number out of range"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def masked(value: Any) -> Any:
    """A value that looks like an email address or a phone number, mostly hidden: the first
    character of the mailbox, the domain, the last 2 digits of a phone."""
    if not isinstance(value, str):
        return value
    if search(EMAIL_LIKE, value):
        return re.sub(r"[A-Za-z0-9._%+-]+@", lambda m: m.group()[0] + "***@", value)
    if search(PHONE_LIKE, value):
        return re.sub(r"[0-9](?=(?:[^0-9]*[0-9]){2})", "•", value)
    return value


def _is_type(value: Any, type_: str) -> bool:
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return type_ == "array" and isinstance(value, list)
    if isinstance(value, float) and not math.isfinite(value):
        return False  # (Overflow, a number past a double's range, is no int or float: False)
    if type_ == "number":
        return True
    return type_ == "integer" and float(value).is_integer()


def _text_value(text: str, type_: str) -> Any:
    """A text-export value as the type the plan expects, or None when it does not read as one."""
    if type_ == "string":
        return text
    if type_ == "boolean":
        return {"true": True, "false": False}.get(text)
    if type_ == "integer":
        return int(text) if search(INTEGER_TEXT, text) else None
    if type_ == "number":
        return float(text) if search(NUMBER_TEXT, text) else None
    if type_ == "array" and text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return parsed if isinstance(parsed, list) else None
    return None


@dataclass(frozen=True)
class Checked:
    """One distinct value as the view holds it, with the RE2 verdicts DuckDB gave it."""

    value: Any
    text_file: bool
    pattern_ok: bool | None
    format_ok: bool | None


def _number_words(value: float, prop: Property) -> list[str]:
    out = []
    if prop.minimum is not None and value < prop.minimum:
        out.append(f"{shown(value)} < minimum {shown(number(prop.minimum))}")
    if prop.maximum is not None and value > prop.maximum:
        out.append(f"{shown(value)} > maximum {shown(number(prop.maximum))}")
    return out


def _string_words(text: str, prop: Property, checked: Checked) -> list[str]:
    out = []
    if prop.min_length is not None and len(text) < prop.min_length:
        out.append(f"{shown(text)} is {len(text)} characters < minLength {prop.min_length}")
    if prop.max_length is not None and len(text) > prop.max_length:
        out.append(f"{shown(text)} is {len(text)} characters > maxLength {prop.max_length}")
    if prop.pattern and checked.pattern_ok is False:
        out.append(f"{shown(text)} does not match {prop.pattern}")
    if prop.format and checked.format_ok is False:
        out.append(f"{shown(text)} is not {FORMAT_WORDS.get(prop.format, prop.format)}")
    return out


def explain_value(
    rule: KeyRule, event: str, checked: Checked, rules: AuditRules
) -> list[tuple[str, str]]:
    """(kind, rule in words) for each finding the value of `rule`'s key gives on `event`; the
    same decisions as the engines (a null is only a null finding, a wrong type only a type
    finding)."""
    prop, raw = rule.prop, checked.value
    if raw is None:
        if rule.nullable_for(event):
            return []
        why = "nullable" if not prop.nullable else f"nullable on {event}"
        return [("null_violation", f"null, but not {why}")]
    value = _text_value(raw, prop.type) if checked.text_file and isinstance(raw, str) else raw
    if not _is_type(value, prop.type):
        return [("type_mismatch", f"expected {prop.type}, got {json_type(raw)}")]
    if prop.type == "array" and prop.items_type:
        for item in value:
            if not _is_type(item, prop.items_type):
                got = json_type(item)
                return [("type_mismatch", f"expected items of {prop.items_type}, got {got}")]
    found: list[tuple[str, str]] = []
    if rule.name == rules.source_name and event in rules.plan.events:
        layers = rules.source_layers(event)
        if value not in layers:
            enum = prop.enum or ()
            kind = "wrong_source" if value in enum else "enum_violation"
            found.append((kind, f"{shown(value)} is not a source of {event}: {listed(layers)}"))
    elif prop.enum is not None and prop.type in ("string", "integer", "number"):
        allowed = [v for v in prop.enum if v is not None]
        numeric = prop.type != "string"
        if (value not in allowed) if numeric else (str(value) not in map(str, allowed)):
            found.append(("enum_violation", f"{shown(value)} not in {listed(allowed)}"))
    elif prop.type == "array" and prop.items_enum:
        wrong = [i for i in value if str(i) not in map(str, prop.items_enum)]
        if wrong:
            item = f"item {shown(wrong[0])} not in {listed(prop.items_enum)}"
            found.append(("enum_violation", item))
    words: list[str] = []
    if prop.type in ("integer", "number"):
        words = _number_words(value, prop)
    elif prop.type == "string":
        words = _string_words(str(value), prop, checked)
    if words:
        found.append(("constraint_violation", "; ".join(words)))
    return found


def explain_column(rule: ColumnRule, checked: Checked) -> list[tuple[str, str]]:
    """An envelope column's value (distinct_id, uuid): length, pattern and format."""
    if checked.value is None:
        return []
    words = _string_words(str(checked.value), rule.prop, checked)
    return [("constraint_violation", "; ".join(words))] if words else []


def explain_key(kind: str, key: str, value: Any, rules: AuditRules) -> str | None:
    """The rule in words for a key that offends whatever its value (None: this value does not)."""
    if kind == "undocumented_property":
        return f"undocumented property '{key}'"
    if kind == "deprecated_property":
        return f"deprecated property '{key}'; send '{rules.deprecated.get(key, '')}'"
    if not isinstance(value, str):
        return None
    if search(EMAIL_LIKE, value):
        return f"an email address in '{key}', which is not marked pii"
    if search(PHONE_LIKE, value):
        return f"a phone number in '{key}', which is not marked pii"
    return None


def _values(
    con: duckdb.DuckDBPyConnection,
    event: str,
    source: str,
    text_files: Sequence[str],
    regexes: Sequence[str],
    view: str,
) -> duckdb.DuckDBPyConnection:
    """Distinct (value, text file?, regex verdicts..., rows) of `source` on `event`'s rows, the
    most frequent first. `source` is SQL over the view's row giving JSON (a property's value)
    or VARCHAR (an envelope column)."""
    text = f"_file IN ({', '.join(map(sql_text, text_files))})" if text_files else "false"
    checks = "".join(f", regexp_matches(s, {sql_text(p)})" for p in regexes)
    as_text = "v ->> '$'" if source.startswith("json_extract") else "v"
    return con.execute(
        f"""SELECT v, t{checks}, count(*) AS n FROM (
              SELECT v, t, {as_text} AS s FROM (
                SELECT {source} AS v, {text} AS t FROM {view}
                WHERE event = $event AND NOT coalesce(_clean, false)) WHERE v IS NOT NULL)
            GROUP BY ALL ORDER BY n DESC, v, t""",
        {"event": event},
    )


@dataclass
class Group:
    """The findings of one event that read one key or column, and what is left to find."""

    event: str
    findings: dict[str, Finding]  # by kind

    def wanted(self) -> bool:
        return any(
            len(f.samples) < SAMPLES and sum(s.count for s in f.samples) < f.count
            for f in self.findings.values()
        )

    def add(self, kind: str, value: Any, count: int, words: str) -> None:
        finding = self.findings.get(kind)
        if finding is not None and len(finding.samples) < SAMPLES:
            finding.samples.append(Sample(value, count, words))


def _fill(
    con: duckdb.DuckDBPyConnection,
    group: Group,
    key: str,
    rules: AuditRules,
    text_files: Sequence[str],
    view: str,
) -> None:
    kinds = group.findings.keys()
    column = next((c for c in rules.columns if c.name == key), None)
    column = column if column is not None and kinds <= VALUE_KINDS else None
    rule = next((r for r in rules.keys if r.name == key), None) if kinds & VALUE_KINDS else None
    prop = column.prop if column is not None else rule.prop if rule is not None else None
    wanted = [] if prop is None else [prop.pattern, FORMAT_PATTERNS.get(prop.format or "")]
    regexes = [r or "^" for r in wanted]  # `^` matches everything: no check
    if column is not None:
        source = f"CAST({column.column} AS VARCHAR)"
    else:
        source = f"json_extract(properties, {sql_text(json_path(rule.key if rule else key))})"
    private = (prop is not None and prop.pii) or key in rules.pii  # every value hidden
    try:
        cursor = _values(con, group.event, source, text_files, regexes, view)
        while group.wanted():
            batch = cursor.fetchmany(1000)
            if not batch:
                break
            for row in batch:
                value = row[0] if column is not None else loads(row[0])
                verdicts = (row[2], row[3]) if regexes else (None, None)
                checked = Checked(value, bool(row[1]), *verdicts)
                found: list[tuple[str, str]] = []
                if column is not None:
                    found = explain_column(column, checked)
                elif rule is not None:
                    found = explain_value(rule, group.event, checked, rules)
                for kind in kinds & KEY_KINDS:
                    words = explain_key(kind, key, value, rules)
                    if words is not None:
                        found.append((kind, words))
                # A report must not spread the personal data it found.
                hidden = masked(value)
                if private and hidden == value and isinstance(value, str):
                    hidden = "•••"
                for kind, words in found:
                    if hidden != value:
                        words = words.replace(shown(value), shown(hidden))
                    group.add(kind, hidden, int(row[-1]), words)
                if not group.wanted():
                    break
    except duckdb.Error:
        return  # a key DuckDB cannot address: the finding keeps its examples only


def static_rule(f: Finding, plan: Plan, rules: AuditRules) -> str:
    """The rule in words when no value says more (or the finding has none)."""
    event, prop = f.event or "", f.property or ""
    if f.kind == "unparseable_row":
        return "not a readable row: one JSON object per line with an event name"
    if f.kind == "unknown_event":
        replacement = rules.replacement(event)
        if replacement:
            return f"deprecated event '{event}'; send '{replacement}'"
        return f"event '{event}' is not in the plan"
    if f.kind == "missing_required_property":
        return f"missing required property '{prop}'"
    if f.kind == "missing_envelope_field":
        return f"missing envelope field '{prop}'"
    if f.kind in ("undocumented_property", "deprecated_property", "pii_leak"):
        words = explain_key(f.kind, prop, None, rules)
        return words or f"personal data in '{prop}', which is not marked pii"
    if f.kind == "sequence_violation":
        needs = sorted(
            {
                f"{'/'.join(r.requires_before)} before {event} (per {r.match_on})"
                for r in plan.sequence_rules.values()
                if event in r.events
            }
        )
        return "needs " + (", ".join(needs) if needs else "its earlier events")
    if f.kind == "identity_violation":
        stitch = plan.identity.stitch_on if plan.identity else "login"
        if prop:
            return f"'{prop}' missing after the person's {stitch}"
        return f"{event} whose ids were never stitched"
    if f.kind == "never_seen":
        return "no row of this planned event"
    return _property_rule(f.kind, prop, rules)


def _property_rule(kind: str, name: str, rules: AuditRules) -> str:
    rule = next((r for r in rules.keys if r.name == name), None)
    column = next((c for c in rules.columns if c.name == name), None)
    prop = rule.prop if rule is not None else column.prop if column is not None else None
    if prop is None:
        return kind.replace("_", " ")
    if kind == "null_violation":
        return "null, but not nullable"
    if kind == "type_mismatch":
        return f"expected {prop.type}"
    if kind in ("enum_violation", "wrong_source"):
        return f"one of {listed(v for v in prop.enum or () if v is not None)}"
    parts = [
        f"{word} {shown(number(limit))}"
        for word, limit in (
            ("minimum", prop.minimum),
            ("maximum", prop.maximum),
            ("minLength", prop.min_length),
            ("maxLength", prop.max_length),
        )
        if limit is not None
    ]
    parts += [f"pattern {prop.pattern}"] if prop.pattern else []
    parts += [f"format {prop.format}"] if prop.format else []
    return ", ".join(parts) or kind.replace("_", " ")


def suggestion(f: Finding, plan: Plan, rules: AuditRules) -> str | None:
    """The plan's name the finding's unknown name most looks like."""
    if f.kind == "unknown_event" and f.event:
        return rules.replacement(f.event) or closest(f.event, plan.events)
    if f.kind == "undocumented_property" and f.property and f.event in plan.events:
        return closest(f.property, rules.allowed_keys(f.event or ""))
    if f.kind == "deprecated_property" and f.property:
        return rules.deprecated.get(f.property) or None
    return None


def annotate(
    con: duckdb.DuckDBPyConnection,
    result: AuditResult,
    plan: Plan,
    *,
    text_files: Sequence[str] = (),
    reasons: Mapping[str, int] | None = None,
    strict_system: bool = False,
    view: str = "events",
) -> AuditResult:
    """Fill each finding's `rule`, `samples` and `suggestion` in place (and return `result`).
    `reasons`: unparseable rows per reason (`ExportReport.reasons`); `view`: where the audited
    rows are (`ExportReport.views.rows`)."""
    rules = AuditRules(plan, strict_system=strict_system)
    groups: dict[tuple[str, str], Group] = {}
    for f in result.findings:
        f.samples, f.suggestion = [], suggestion(f, plan, rules)
        f.rule = static_rule(f, plan, rules)
        if f.event is not None and f.property and f.kind in VALUE_KINDS | KEY_KINDS:
            group = groups.setdefault((f.event, f.property), Group(f.event, {}))
            group.findings[f.kind] = f
        if f.kind == "unparseable_row" and reasons:
            for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:SAMPLES]:
                f.samples.append(Sample(reason, n, reason))
    if groups:
        for (_, key), group in sorted(groups.items()):
            _fill(con, group, key, rules, text_files, view)
    for f in result.findings:
        if f.samples and f.kind != "unparseable_row":
            f.rule = f.samples[0].rule
    return result
