"""`trackplan audit`: PostHog exports checked against the plan for drift.

`run_audit(con, exports, plan, engine=...)` audits the rows `compiler.exports.open_events`
put in the `events` view. Engines: `duckdb` (the plan compiled into SQL, the default) and
`jsonschema` (every row validated in Python against the generated schemas, the reference).
Both return the same `AuditResult`.
"""

from __future__ import annotations

import functools

import duckdb

from compiler.audit import duck, linescan, reference, screen
from compiler.audit.findings import EXAMPLES, AuditResult, Finding
from compiler.audit.rules import AuditRules
from compiler.exports import ExportReport, Screen, scan
from compiler.plan.model import Plan

ENGINES = {"duckdb": duck.run, "jsonschema": reference.run}


def _with_details(findings: list[Finding], plan: Plan, rules: AuditRules) -> None:
    for f in findings:
        if f.kind == "unknown_event" and f.event and f.event in plan.deprecated_events:
            f.detail = f"deprecated event; send {plan.deprecated_events[f.event].replaced_by}"
        elif f.kind == "deprecated_property" and f.property:
            f.detail = f"deprecated; send {rules.deprecated[f.property]}"


def screen_for(plan: Plan, *, strict_system: bool = False) -> Screen:
    """The screen to read exports with before a DuckDB-engine audit (see `audit.screen`): rows it
    proves clean skip the exact checks, and clean rows no cross-row check reads drop their
    properties. Only the DuckDB engine may audit a view read this way."""
    rules = AuditRules(plan, strict_system=strict_system)
    lines = linescan.build(rules) if scan.available() else None
    # The SQL screen is built when a row first needs it: with the scanner, often never.
    clean = functools.cache(lambda: screen.clean_sql(rules, duck.columns_ok(rules)))
    return Screen(clean, screen.sequence_sql(rules), lines)


def run_audit(
    con: duckdb.DuckDBPyConnection,
    exports: ExportReport,
    plan: Plan,
    *,
    engine: str = "duckdb",
    strict_system: bool = False,
) -> AuditResult:
    rules = AuditRules(plan, strict_system=strict_system)
    findings, stats = ENGINES[engine](con, rules, exports.text_files)
    if exports.rows_unparseable:
        examples = [f"{e.file}:{e.line}" for e in exports.examples[:EXAMPLES]]
        findings.append(Finding("unparseable_row", None, None, exports.rows_unparseable, examples))
    for name in sorted(set(plan.events) - set(stats)):
        findings.append(Finding("never_seen", name, None, 1, []))
    _with_details(findings, plan, rules)
    system = sum(s.count for name, s in stats.items() if name.startswith("$"))
    return AuditResult(
        rows_total=exports.rows_total,
        rows_unparseable=exports.rows_unparseable,
        findings=sorted(findings, key=Finding.sort_key),
        events=stats,
        engine=engine,
        files=[f.to_json() for f in exports.files],
        system_rows=system,
    )
