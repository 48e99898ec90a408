"""The default engine: the plan compiled into DuckDB SQL over the rows view (`events`, or a screened read's `audit_events`).

Two scans, each parsing `properties` once: one checks every (row, plan key present) pair
against the key's rule (type, null, enum, bounds, pattern, format, allowed layers); the other
checks each row as a whole (unknown event, missing keys and envelope columns, undocumented,
deprecated and PII-looking keys). Violations, not rows, go into a narrow temp table, which
small aggregates turn into findings, examples and per-event counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from compiler.audit import sequence
from compiler.audit.findings import EXAMPLES, EventStats, Finding
from compiler.audit.rules import (
    EMAIL_LIKE,
    INTEGER_TEXT,
    NUMBER_TEXT,
    PHONE_LIKE,
    AuditRules,
)
from compiler.audit.tables import PlanTables, column_failures
from compiler.exports.report import NEUTRAL, Views
from compiler.funnel.dialects import get

PII_PREFILTER = r"@|\+[0-9]|[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}"
VIOLATIONS = "_trackplan_audit_violations"
DUCKDB = get("duckdb")
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def lit(value: object) -> str:
    """A plan value as a DuckDB literal (the dialect's own), NULL for None."""
    return "NULL" if value is None else DUCKDB.value(value)


def lst(values: Sequence[object] | None, type_: str) -> str:
    if values is None:
        return f"NULL::{type_}[]"
    return "[" + ", ".join(lit(v) for v in values) + f"]::{type_}[]"


def _regex_case(column: str, patterns: tuple[str, ...], value: str) -> str:
    if not patterns:
        return "true"
    whens = " ".join(
        f"WHEN {i} THEN regexp_matches({value}, {lit(p)})" for i, p in enumerate(patterns, 1)
    )
    return f"(CASE {column} {whens} ELSE true END)"


def _type_ok(x: str, type_col: str) -> str:
    """JSON value `x` has the plan type named in `type_col` (1.0 is an integer, as in JSON Schema;
    a number past a double's range, 1e400, is no number)."""
    return (
        f"(CASE {type_col} WHEN 'string' THEN json_type({x}) = 'VARCHAR' "
        f"WHEN 'boolean' THEN json_type({x}) = 'BOOLEAN' "
        f"WHEN 'number' THEN json_type({x}) IN ('BIGINT', 'UBIGINT') OR (json_type({x}) = 'DOUBLE' "
        f"AND isfinite(TRY_CAST({x} AS DOUBLE))) "
        f"WHEN 'integer' THEN json_type({x}) IN ('BIGINT', 'UBIGINT') OR (json_type({x}) = 'DOUBLE' "
        f"AND isfinite(TRY_CAST({x} AS DOUBLE)) "
        f"AND TRY_CAST({x} AS DOUBLE) = floor(TRY_CAST({x} AS DOUBLE))) "
        f"WHEN 'array' THEN json_type({x}) = 'ARRAY' ELSE false END)"
    )


def keys_cte(t: PlanTables) -> str:
    rows = ", ".join(
        f"({k.index}, {lit(k.name)}, {lit(k.type)}, {lst(k.enum_text, 'VARCHAR')}, "
        f"{lst(k.enum_number, 'DOUBLE')}, {lit(k.minimum)}::DOUBLE, {lit(k.maximum)}::DOUBLE, "
        f"{lit(k.min_length)}::DOUBLE, {lit(k.max_length)}::DOUBLE, {k.pattern}, {k.format}, "
        f"{lit(k.items_type)}::VARCHAR, {lst(k.items_enum, 'VARCHAR')}, {lit(k.nullable)}, "
        f"{lit(k.envelope)})"
        for k in t.keys
    )
    return (
        f"plan_keys(i, name, type, enum_text, enum_number, minimum, maximum, min_length, "
        f"max_length, pattern, format, items_type, items_enum, nullable, envelope) AS (VALUES {rows})"
    )


def events_cte(t: PlanTables) -> str:
    names = {k.index: k.key for k in t.keys}
    envelope = {k.index for k in t.keys if k.envelope}
    rows = ", ".join(
        f"({lit(e.event)}, {lst(e.allowed, 'BOOLEAN')}, {lst(e.non_null, 'BOOLEAN')}, "
        f"{lst([names[i] for i in e.required if i in envelope], 'VARCHAR')}, "
        f"{lst([names[i] for i in e.required if i not in envelope], 'VARCHAR')}, "
        f"{lst(e.layers, 'VARCHAR')})"
        for e in t.events
    )
    return f"plan_events(event, allowed, non_null, required_envelope, required, layers) AS (VALUES {rows})"


def _base(t: PlanTables, text_files: list[str], extra: str, view: str) -> str:
    text = f"e._file IN ({', '.join(lit(f) for f in text_files)})" if text_files else "false"
    return f"""SELECT e.event, e._file, e._row, e.distinct_id, e.uuid, e.timestamp, e.properties AS p,
    coalesce(e.uuid, e._file || ':' || e._row) AS ex, {text} AS _text,
    pe.event IS NOT NULL AS known, pe.allowed, pe.non_null, pe.required_envelope, pe.required,
    pe.layers, {extra}
  FROM {view} e LEFT JOIN plan_events pe ON e.event = pe.event
  WHERE NOT coalesce(e._clean, false)"""


def entries_sql(t: PlanTables, text_files: list[str], view: str = "events") -> str:
    """Findings on the value of each plan key a row carries."""
    paths = "[" + ", ".join(lit(f'$."{k.key}"') for k in t.keys) + "]"
    num = "(CASE WHEN _text THEN TRY_CAST(s AS DOUBLE) ELSE TRY_CAST(val AS DOUBLE) END)"
    items = "json_extract(CASE WHEN _text THEN s ELSE CAST(val AS VARCHAR) END, '$[*]')"
    finite = "coalesce(isfinite(TRY_CAST(s AS DOUBLE)), false)"
    text_ok = (
        "(CASE type WHEN 'string' THEN true WHEN 'boolean' THEN s IN ('true', 'false') "
        f"WHEN 'number' THEN regexp_matches(s, {lit(NUMBER_TEXT)}) AND {finite} "
        f"WHEN 'integer' THEN regexp_matches(s, {lit(INTEGER_TEXT)}) AND {finite} "
        "WHEN 'array' THEN json_valid(s) AND left(s, 1) = '[' ELSE false END)"
    )
    items_bad_type = (
        f"(items_type IS NOT NULL AND coalesce(list_bool_or(list_transform({items}, "
        f"lambda x: NOT {_type_ok('x', 'items_type')})), false))"
    )
    items_bad_enum = (
        f"coalesce(list_bool_or(list_transform({items}, "
        "lambda x: NOT list_contains(items_enum, x ->> '$'))), false)"
    )
    base_ok = f"(CASE WHEN _text THEN {text_ok} ELSE {_type_ok('val', 'type')} END)"
    ok = f"(CASE WHEN type = 'array' THEN {base_ok} AND NOT {items_bad_type} ELSE {base_ok} END)"
    enum_bad = (
        "(CASE WHEN enum_text IS NOT NULL THEN NOT list_contains(enum_text, s) "
        f"WHEN enum_number IS NOT NULL THEN NOT list_contains(enum_number, {num}) "
        f"WHEN items_enum IS NOT NULL THEN {items_bad_enum} ELSE false END)"
    )
    constraint_bad = (
        f"(CASE WHEN type IN ('integer', 'number') THEN coalesce({num} < minimum, false) "
        f"OR coalesce({num} > maximum, false) "
        "WHEN type = 'string' THEN coalesce(length(s) < min_length, false) "
        "OR coalesce(length(s) > max_length, false) "
        f"OR NOT {_regex_case('pattern', t.patterns, 's')} "
        f"OR NOT {_regex_case('format', t.formats, 's')} ELSE false END)"
    )
    source = t.source_index
    enum_kind = (
        f"CASE WHEN i = {source} THEN (CASE WHEN NOT list_contains(layers, s) THEN "
        "(CASE WHEN list_contains(enum_text, s) THEN 'wrong_source' ELSE 'enum_violation' END) END) "
        f"WHEN {enum_bad} THEN 'enum_violation' END"
    )
    return f"""
WITH {keys_cte(t)}, {events_cte(t)},
base AS NOT MATERIALIZED ({_base(t, text_files, f"json_extract(e.properties, {paths}) AS v", view)}),
present AS (
  SELECT event, _file, _row, ex, _text, layers, non_null, v,
    unnest(list_filter(range(1, {len(t.keys) + 1}), lambda i: v[i] IS NOT NULL AND allowed[i])) AS i
  FROM base WHERE known
), entries AS (
  SELECT p.*, p.v[p.i] AS val, p.v[p.i] ->> '$' AS s, k.* EXCLUDE (i)
  FROM present p JOIN plan_keys k USING (i)
), typed AS (
  SELECT *, CASE WHEN json_type(val) = 'NULL' THEN NULL ELSE {ok} END AS ok FROM entries
), kinds AS (
  SELECT event, _file, _row, ex, name,
    CASE WHEN ok IS NULL THEN (CASE WHEN NOT nullable OR non_null[i] THEN 'null_violation' END)
         WHEN NOT ok THEN 'type_mismatch' END AS k1,
    CASE WHEN ok THEN {enum_kind} END AS k2,
    CASE WHEN ok THEN (CASE WHEN {constraint_bad} THEN 'constraint_violation' END) END AS k3
  FROM typed
)
SELECT event, _file, _row, ex, kind, name AS property
FROM (SELECT *, unnest([k1, k2, k3]) AS kind FROM kinds WHERE coalesce(k1, k2, k3) IS NOT NULL)
WHERE kind IS NOT NULL"""


def columns_ok(rules: AuditRules) -> str:
    """SQL: no envelope column of a plan event row fails."""
    failures = [f"({condition})" for _, _, condition in column_failures(rules, DUCKDB)]
    return f"NOT coalesce({' OR '.join(failures)}, true)" if failures else "true"


def _column_checks(rules: AuditRules) -> list[str]:
    return [
        f"CASE WHEN known AND {condition} THEN {{'kind': {lit(kind)}, 'property': {lit(name)}}} END"
        for kind, name, condition in column_failures(rules, DUCKDB)
    ]


def rows_sql(rules: AuditRules, t: PlanTables, text_files: list[str], view: str = "events") -> str:
    """Findings on each row as a whole."""
    tolerated = lst(sorted(rules.tolerated | set(rules.deprecated) | {"$session_id"}), "VARCHAR")
    system = "" if rules.strict_system else " AND NOT starts_with(k, '$')"
    unknown = "NOT known" + ("" if rules.strict_system else " AND NOT starts_with(event, '$')")
    # Values by position, beside json_keys (a path cannot name a key holding a quote).
    value = "json_extract(p, '$.*')[i]"
    pii = (
        f"CASE WHEN regexp_matches(p, {lit(PII_PREFILTER)}) THEN list_filter(keys, lambda k, i: "
        f"NOT starts_with(k, '$') AND NOT list_contains({lst(sorted(rules.pii), 'VARCHAR')}, k) "
        f"AND json_type({value}) = 'VARCHAR' AND (regexp_matches({value} ->> '$', {lit(EMAIL_LIKE)}) "
        f"OR regexp_matches({value} ->> '$', {lit(PHONE_LIKE)}))) ELSE [] END"
    )
    names = {k.key: k.name for k in t.keys}
    rename = (
        "CASE k "
        + " ".join(f"WHEN {lit(a)} THEN {lit(b)}" for a, b in names.items() if a != b)
        + " ELSE k END"
        if any(a != b for a, b in names.items())
        else "k"
    )
    structs = ", ".join(
        [
            f"CASE WHEN {unknown} THEN {{'kind': 'unknown_event', 'property': NULL::VARCHAR}} END",
            *_column_checks(rules),
        ]
    )
    found = f"""list_concat(
      list_filter([{structs}], lambda x: x IS NOT NULL),
      CASE WHEN known THEN list_transform(list_filter(required_envelope, lambda k: NOT list_contains(keys, k)),
           lambda k: {{'kind': 'missing_envelope_field', 'property': {rename}}}) ELSE [] END,
      CASE WHEN known THEN list_transform(list_filter(required, lambda k: NOT list_contains(keys, k)),
           lambda k: {{'kind': 'missing_required_property', 'property': k}}) ELSE [] END,
      CASE WHEN known THEN list_transform(list_filter(keys, lambda k: NOT list_contains(allowed_keys, k)
           AND NOT list_contains({tolerated}, k){system}),
           lambda k: {{'kind': 'undocumented_property', 'property': k}}) ELSE [] END,
      CASE WHEN known THEN list_transform(list_filter(keys, lambda k: list_contains({lst(sorted(rules.deprecated), 'VARCHAR')}, k)),
           lambda k: {{'kind': 'deprecated_property', 'property': k}}) ELSE [] END,
      list_transform({pii}, lambda k: {{'kind': 'pii_leak', 'property': k}}))"""
    allowed = (
        "CASE e.event "
        + " ".join(
            f"WHEN {lit(e)} THEN {lst(sorted(rules.allowed_keys(e)), 'VARCHAR')}"
            for e in sorted(rules.plan.events)
        )
        + " END AS allowed_keys"
    )
    return f"""
WITH {events_cte(t)},
base AS NOT MATERIALIZED ({_base(t, text_files, f"json_keys(e.properties) AS keys, {allowed}", view)}),
found AS (SELECT event, _file, _row, ex, unnest({found}) AS f FROM base)
SELECT event, _file, _row, ex, f.kind, f.property FROM found"""


def run(
    con: duckdb.DuckDBPyConnection, rules: AuditRules, text_files: list[str], views: Views = NEUTRAL
) -> tuple[list[Finding], dict[str, EventStats]]:
    """Findings and per-event statistics of the rows in the `views` (`events` by default)."""
    t = PlanTables(rules)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {VIOLATIONS} (event VARCHAR, _file VARCHAR, _row BIGINT, "
        "ex VARCHAR, kind VARCHAR, property VARCHAR)"
    )
    unclean = con.execute(f"SELECT count(*) FROM {views.rows} WHERE NOT coalesce(_clean, false)")
    if unclean.fetchone() != (0,):  # planning the two queries alone takes about 0.3 s
        con.execute(f"INSERT INTO {VIOLATIONS} {entries_sql(t, text_files, views.rows)}")
        con.execute(f"INSERT INTO {VIOLATIONS} {rows_sql(rules, t, text_files, views.rows)}")
    sequence.duck_violations(con, rules, views.rows)
    con.execute(
        f"INSERT INTO {VIOLATIONS} SELECT event, _file, _row, ex, kind, property "
        f"FROM {sequence.VIOLATIONS}"
    )
    findings = [
        Finding(str(kind), event, prop, int(count), list(examples))
        for kind, event, prop, count, examples in con.execute(
            f"SELECT kind, event, property, count(*), min(ex, {EXAMPLES}) FROM {VIOLATIONS} "
            "GROUP BY ALL"
        ).fetchall()
    ]
    stats = {
        str(event): EventStats(int(count), first, last, int(bad or 0))
        for event, count, first, last, bad in con.execute(f"""
            SELECT e.event, e.n, e.first_seen, e.last_seen, v.bad FROM (
                SELECT event, n, strftime(first_seen, '{TS_FORMAT}') AS first_seen,
                       strftime(last_seen, '{TS_FORMAT}') AS last_seen
                FROM {views.stats}) e
            LEFT JOIN (SELECT event, count(DISTINCT (_file, _row)) AS bad FROM {VIOLATIONS}
                       GROUP BY event) v ON e.event = v.event""").fetchall()
    }
    return findings, stats
