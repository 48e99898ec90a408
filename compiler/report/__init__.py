"""The HTML report a growth lead reads: funnel, milestones, churn, tracking health, forecast.

`render(inputs) -> str` is pure: it takes the JSON results of rates, audit, fit and simulate
(any of them may be missing) and returns one self-contained HTML page (inline CSS and SVG, no
scripts, nothing fetched), which opens from file:// with no server.
"""

from __future__ import annotations

from compiler.report import view
from compiler.report.view import ReportInputs
from compiler.templating import environment

__all__ = ["ReportInputs", "render"]


def render(inputs: ReportInputs) -> str:
    sections = [
        view.funnel_section(inputs),
        view.milestones_section(inputs),
        view.churn_section(inputs),
        view.audit_section(inputs),
        view.forecast_section(inputs),
    ]
    template = environment(autoescape=True).get_template("report/report.html.j2")
    return template.render(
        plan=inputs.plan,
        sources=inputs.sources,
        headline=view.headline(inputs),
        sections=sections,
        worst_events=view.worst_events(inputs),
        top_findings=view.top_findings(inputs),
        fitted=view.fitted_rows(inputs),
        rows_total=(inputs.audit or {}).get("rows_total"),
    )
