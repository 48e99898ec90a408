"""An `AuditResult` as text (rich), JSON, JUnit XML (CI annotations) or an HTML report."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from compiler.audit.findings import KINDS, LEVELS, AuditResult, Finding
from compiler.audit.samples import shown
from compiler.plan.model import Plan
from compiler.templating import environment


def to_json(result: AuditResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"


def _where(f: Finding) -> str:
    return ".".join(x for x in (f.event, f.property) if x) or "-"


def _values(f: Finding) -> str:
    """The offending values and their rows: `'JPY' ×12, 'jpy' ×3`."""
    return ", ".join(f"{shown(s.value)} ×{s.count}" for s in f.samples)


def _why(f: Finding) -> str:
    """The rule, the values, the suggestion and the detail, as one line of words."""
    parts = [f.rule or "", f"values: {_values(f)}" if f.samples else ""]
    if f.suggestion and f.kind in ("unknown_event", "undocumented_property"):
        parts.append(f"did you mean '{f.suggestion}'?")
    if f.detail and f.rule is None:  # the rule says the replacement of a deprecated name
        parts.append(f.detail)
    return "; ".join(p for p in parts if p)


def levels(result: AuditResult) -> dict[str, tuple[int, int]]:
    """Per severity (error, warning, info): (findings, rows they count)."""
    out = {level: (0, 0) for level in LEVELS}
    for f in result.findings:
        n, rows = out[f.severity]
        out[f.severity] = (n + 1, rows + f.count)
    return out


def headline(result: AuditResult) -> str:
    """`3 errors (5 rows), 1 warning (1 row); 45 planned events never seen (info)`."""
    count = levels(result)
    parts = []
    for level, word in (("error", "error"), ("warning", "warning")):
        n, rows = count[level]
        parts.append(f"{n} {word}{'' if n == 1 else 's'} ({rows} row{'' if rows == 1 else 's'})")
    unseen = sum(1 for f in result.findings if f.kind == "never_seen")
    info = f"; {unseen} planned event{'' if unseen == 1 else 's'} never seen (info)"
    return ", ".join(parts) + (info if unseen else "")


def verdict(result: AuditResult) -> str:
    count = levels(result)
    if count["error"][0]:
        return "Errors found."
    return "Warnings only." if count["warning"][0] else "Clean."


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
    for column in ("kind", "severity", "where", "count", "rule and values", "examples"):
        table.add_column(column, justify="right" if column == "count" else "left")
    unseen = [f.event or "" for f in result.findings if f.kind == "never_seen"]
    for f in result.findings:
        if f.kind == "never_seen":
            continue  # listed once below: a table row per unseen event drowns the drift
        cells = (f.kind, f.severity, _where(f), str(f.count), _why(f), ", ".join(f.examples))
        table.add_row(*map(escape, cells))
    console.print(table)
    if unseen:
        console.print(
            f"never_seen (info): {len(unseen)} plan event(s) with no row: {', '.join(unseen)}"
        )
    summary = ", ".join(f"{k} {n}" for k, n in result.summary.items()) or "no findings"
    console.print(f"Summary: {summary}")
    console.print(f"{verdict(result)} {headline(result)}")
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
            body = "examples: " + ", ".join(f.examples) + (f"; {_why(f)}" if _why(f) else "")
            lines.append(
                f"    <failure type={quoteattr(f.kind)} message={quoteattr(message)}>"
                f"{quoteattr(body)[1:-1]}</failure>"
            )
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"


def _health(total: int, bad: int) -> tuple[str, str]:
    if total == 0:
        return "no rows", "health-none"
    share = 1 - bad / total
    css = "health-good" if share >= 0.99 else "health-warn" if share >= 0.9 else "health-bad"
    return f"{share:.1%} clean", css


def docs_base(docs_url: str | None) -> str | None:
    """The doc site's root as an href: a URL as given, an absolute path as a file: URL, a
    relative path as given (relative to where the report is opened from)."""
    if not docs_url:
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", docs_url) or not Path(docs_url).is_absolute():
        return docs_url.rstrip("/") + "/"
    return Path(docs_url).as_uri().rstrip("/") + "/"


def html_view(result: AuditResult, plan: Plan, docs_url: str | None = None) -> dict[str, object]:
    base = docs_base(docs_url)

    def page(event: str | None) -> str:
        if base is None or not event or event not in plan.events:
            return ""
        return f"{base}events/{quote(event)}.html"

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
                "never_seen": len(names) - len(seen),
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
    count = levels(result)
    shown_findings = [f for f in result.findings if f.kind != "never_seen"]
    return {
        "title": plan.name,
        "rows_total": result.rows_total,
        "rows_unparseable": result.rows_unparseable,
        "engine": result.engine,
        "errors": count["error"][0],
        "error_rows": count["error"][1],
        "warnings": count["warning"][0],
        "warning_rows": count["warning"][1],
        "headline": headline(result),
        "verdict": verdict(result),
        "verdict_css": {"Clean.": "health-good", "Warnings only.": "health-warn"}.get(
            verdict(result), "health-bad"
        ),
        "categories": categories,
        "events": [
            {
                "name": n,
                "href": page(n),
                "count": s.count,
                "bad": s.rows_with_violations,
                "first_seen": s.first_seen or "",
                "last_seen": s.last_seen or "",
            }
            for n, s in events
        ],
        "never_seen": [
            {"name": f.event or "", "href": page(f.event)}
            for f in result.findings
            if f.kind == "never_seen"
        ],
        "findings": [
            {
                "kind": f.kind,
                "severity": f.severity,
                "event": f.event or "",
                "href": page(f.event),
                "property": f.property or "",
                "count": f.count,
                "rule": f.rule or "",
                "samples": [{"value": shown(s.value), "count": s.count} for s in f.samples],
                "suggestion": (
                    f.suggestion if f.kind in ("unknown_event", "undocumented_property") else ""
                ),
                "suggestion_href": page(f.suggestion) if f.kind == "unknown_event" else "",
                "examples": ", ".join(f.examples),
                "detail": f.detail if f.detail and f.rule is None else "",
            }
            for f in sorted(shown_findings, key=lambda f: (KINDS.index(f.kind), -f.count))
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


def to_html(result: AuditResult, plan: Plan, *, docs_url: str | None = None) -> str:
    return (
        environment(autoescape=True)
        .get_template("audit_report.html.j2")
        .render(view=html_view(result, plan, docs_url))
    )
