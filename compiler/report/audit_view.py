"""The tracking-health section (from the audit) and the headline cards."""

from __future__ import annotations

from compiler.report import charts
from compiler.report.charts import Estimate
from compiler.report.funnel_view import objective_headline
from compiler.report.inputs import ReportInputs
from compiler.report.money_view import revenue_headlines
from compiler.report.view import Chart, Section, Table, absent, count, pct

WORST_EVENTS = 12
TOP_FINDINGS = 15


def audit_section(inputs: ReportInputs) -> Section:
    title = "Tracking health (audit)"
    audit = inputs.audit
    if audit is None:
        return absent("audit", title, inputs.why("audit", default="no audit was run"))
    section = Section(
        "audit",
        title,
        "Rows checked against the plan. Health is the share of rows with no finding; worst "
        "categories and events first.",
    )
    per_category = []
    for category in inputs.plan.categories.values():
        names = [e.name for e in inputs.plan.events_in(category.name)]
        stats = [audit.events[n] for n in names if n in audit.events]
        rows = sum(s.count for s in stats)
        bad = sum(s.rows_with_violations for s in stats)
        seen = sum(1 for s in stats if s.count)
        health = 1 - bad / rows if rows else 1.0
        per_category.append((health, category.title, seen, len(names), rows, bad))
    per_category.sort(key=lambda c: (c[4] == 0, c[0], c[1]))  # categories with no rows last
    table = Table(["category", "events seen", "rows", "rows with findings", "health"])
    for health, name, seen, total, rows, bad in per_category:
        table.rows.append(
            [name, f"{seen} / {total}", count(rows), count(bad), pct(health) if rows else "no rows"]
        )
    section.tables.append(table)
    seen_categories = [Estimate(t, h, h, h) for h, t, _, _, rows, _ in per_category if rows]
    if seen_categories:
        section.charts.append(
            Chart(
                charts.rates(seen_categories, "share of rows with no finding"),
                "Tracking health per event category",
            )
        )
    worst = sorted(
        (
            (s.rows_with_violations / s.count if s.count else 0.0, name, s)
            for name, s in audit.events.items()
        ),
        key=lambda x: (-x[0], x[1]),
    )
    worst_table = Table(
        ["event", "rows", "rows with findings", "share", "last seen"], caption="Worst events"
    )
    for share, name, s in worst[:WORST_EVENTS]:
        if share > 0:
            worst_table.rows.append(
                [
                    name,
                    count(s.count),
                    count(s.rows_with_violations),
                    pct(share),
                    s.last_seen or "–",
                ]
            )
    if worst_table.rows:
        section.tables.append(worst_table)
    findings = sorted(audit.findings, key=lambda f: (-f.count, f.kind, f.event or ""))
    top = Table(["kind", "event", "property", "count"], caption="Top findings", text_columns=3)
    for f in findings[:TOP_FINDINGS]:
        top.rows.append([f.kind, f.event or "–", f.property or "–", count(f.count)])
    if top.rows:
        section.tables.append(top)
    return section


def headline(inputs: ReportInputs) -> list[tuple[str, str]]:
    """The cards under the title: the objective rate, net revenue, people, rows, findings."""
    out: list[tuple[str, str]] = []
    if (objective := objective_headline(inputs)) is not None:
        out.append(objective)
    out += revenue_headlines(inputs)
    rates = inputs.rates
    for name, p in (rates.milestones if rates else {}).items():
        milestone = inputs.plan.milestones.get(name)
        if milestone is not None and p.rate is not None:
            out.append((milestone.title, pct(p.rate)))
    if inputs.audit is not None:
        out.append(("rows audited", count(inputs.audit.rows_total)))
        # never_seen is coverage information (severity info), not a problem with the data
        problems = [f for f in inputs.audit.findings if f.severity != "info"]
        out.append(("findings", count(sum(f.count for f in problems))))
    return out
