"""An `AuditResult` as text (rich), JSON, JUnit XML (CI annotations) or an HTML report."""

from __future__ import annotations

import io
import json
from xml.sax.saxutils import quoteattr

from rich.console import Console
from rich.table import Table

from compiler.audit.findings import KINDS, AuditResult, Finding
from compiler.plan.model import Plan
from compiler.templating import environment


def to_json(result: AuditResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


def _where(f: Finding) -> str:
    return ".".join(x for x in (f.event, f.property) if x) or "-"


def to_text(result: AuditResult, *, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    console.print(
        f"{result.rows_total} rows read, {result.rows_unparseable} unparseable, "
        f"{len(result.events)} distinct events ({result.system_rows} rows of PostHog's own "
        f"$-events), engine {result.engine}"
    )
    for info in result.files:
        if info["status"] != "read fully" or info["notes"]:
            console.print(f"{info['path']}: {info['status']}; {'; '.join(info['notes'])}")
    table = Table(title="Findings", show_lines=False)
    for column in ("kind", "severity", "where", "count", "examples"):
        table.add_column(column, justify="right" if column == "count" else "left")
    unseen = [f.event or "" for f in result.findings if f.kind == "never_seen"]
    for f in result.findings:
        if f.kind == "never_seen":
            continue  # listed once below: a table row per unseen event drowns the drift
        examples = ", ".join(f.examples) + (f" ({f.detail})" if f.detail else "")
        table.add_row(f.kind, f.severity, _where(f), str(f.count), examples)
    console.print(table)
    if unseen:
        console.print(
            f"never_seen (info): {len(unseen)} plan event(s) with no row: {', '.join(unseen)}"
        )
    summary = ", ".join(f"{k} {n}" for k, n in result.summary.items()) or "no findings"
    console.print(f"Summary: {summary}")
    return buffer.getvalue()


def to_junit(result: AuditResult) -> str:
    """One test case per event (and one for the input); each finding kind is a failure."""
    cases: dict[str, list[Finding]] = {name: [] for name in sorted(result.events)}
    for f in result.findings:
        cases.setdefault(f.event or "(input)", []).append(f)
    failures = sum(1 for fs in cases.values() if fs)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="trackplan audit" tests="{len(cases)}" failures="{failures}">',
    ]
    for name, found in sorted(cases.items()):
        lines.append(f'  <testcase classname="trackplan.audit" name={quoteattr(name)}>')
        for f in found:
            message = f"{f.kind} {_where(f)}: {f.count} row(s)"
            body = "examples: " + ", ".join(f.examples) + (f"; {f.detail}" if f.detail else "")
            lines.append(
                f"    <failure type={quoteattr(f.kind)} message={quoteattr(message)}>"
                f"{quoteattr(body)[1:-1]}</failure>"
            )
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"


def _health(total: int, bad: int) -> tuple[str, str]:
    if total == 0:
        return "not seen", "health-warn"
    share = 1 - bad / total
    css = "health-good" if share >= 0.99 else "health-warn" if share >= 0.9 else "health-bad"
    return f"{share:.1%} clean", css


def html_view(result: AuditResult, plan: Plan) -> dict[str, object]:
    categories = []
    for cat in plan.categories.values():
        names = [e.name for e in plan.events_in(cat.name)]
        seen = [result.events[n] for n in names if n in result.events]
        rows, bad = sum(s.count for s in seen), sum(s.rows_with_violations for s in seen)
        health, css = _health(rows, bad)
        categories.append(
            {
                "title": cat.title,
                "seen": len(seen),
                "planned": len(names),
                "rows": rows,
                "bad_rows": bad,
                "health": health,
                "css": css,
            }
        )
    events = sorted(
        result.events.items(),
        key=lambda kv: (-kv[1].rows_with_violations / max(kv[1].count, 1), kv[0]),
    )
    finding_total = sum(result.summary.values())
    return {
        "title": plan.name,
        "rows_total": result.rows_total,
        "rows_unparseable": result.rows_unparseable,
        "engine": result.engine,
        "finding_total": finding_total,
        "verdict": "Clean." if not result.failing("error") else "Errors found.",
        "categories": categories,
        "events": [
            {
                "name": n,
                "count": s.count,
                "bad": s.rows_with_violations,
                "first_seen": s.first_seen or "",
                "last_seen": s.last_seen or "",
            }
            for n, s in events
        ],
        "findings": [
            {
                "kind": f.kind,
                "severity": f.severity,
                "event": f.event or "",
                "property": f.property or "",
                "count": f.count,
                "examples": ", ".join(f.examples),
                "detail": f.detail or "",
            }
            for f in sorted(result.findings, key=lambda f: (KINDS.index(f.kind), -f.count))
        ],
        "files": [
            {
                "path": f["path"],
                "format": f["format"],
                "rows": f["rows"],
                "status": f["status"],
                "notes": "; ".join(f["notes"]),
            }
            for f in result.files
        ],
    }


def to_html(result: AuditResult, plan: Plan) -> str:
    return (
        environment(autoescape=True)
        .get_template("audit_report.html.j2")
        .render(view=html_view(result, plan))
    )
