"""`trackplan audit`: PostHog exports checked against the plan for drift.

`run_audit(con, exports, plan, engine=...)` audits the rows `compiler.exports.open_events` put
in the `events` view, or that `open_screened` (read.py, the fast paths) put in `audit_events`.
Engines: `duckdb` (the plan compiled into SQL, the default) and `jsonschema` (every row
validated in Python, the reference; it needs every row's properties, so not a screened read).
Both return the same `AuditResult`.
"""

from __future__ import annotations

import duckdb

from compiler.audit import duck, reference
from compiler.audit.findings import EXAMPLES, AuditResult, Finding
from compiler.audit.read import AuditScreen, open_screened, screen_for
from compiler.audit.rules import AuditRules
from compiler.exports import ExportReport
from compiler.exports.report import NEUTRAL
from compiler.plan.model import Plan

__all__ = ["ENGINES", "AuditScreen", "open_screened", "run_audit", "screen_for"]

ENGINES = {"duckdb": duck.run, "jsonschema": reference.run}


def _with_details(findings: list[Finding], plan: Plan, rules: AuditRules) -> None:
    for f in findings:
        if f.kind == "unknown_event" and f.event and f.event in plan.deprecated_events:
            f.detail = f"deprecated event; send {plan.deprecated_events[f.event].replaced_by}"
        elif f.kind == "deprecated_property" and f.property:
            f.detail = f"deprecated; send {rules.deprecated[f.property]}"


def run_audit(
    con: duckdb.DuckDBPyConnection,
    exports: ExportReport,
    plan: Plan,
    *,
    engine: str = "duckdb",
    strict_system: bool = False,
) -> AuditResult:
    if engine != "duckdb" and exports.views != NEUTRAL:
        raise ValueError(f"the {engine} engine reads every row: open the exports with open_events")
    rules = AuditRules(plan, strict_system=strict_system)
    findings, stats = ENGINES[engine](con, rules, exports.text_files, exports.views)
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
