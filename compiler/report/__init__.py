"""The HTML report a growth lead reads, driven by the plan: what to do next, the funnel,
milestones, revenue, churn, the churn hazard, the forecast, the assumptions and tracking health.

`render(inputs) -> str` is pure: it takes the typed results of audit, rates, fit, simulate and
the lever sweep (any of them may be missing) and returns one self-contained HTML page (inline CSS
and SVG, no scripts, nothing fetched), which opens from file:// with no server. A section the
plan or the data cannot support is one line saying why.
"""

from __future__ import annotations

from compiler.report import audit_view, churn_view, forecast_view, funnel_view, levers_view
from compiler.report.inputs import ReportInputs
from compiler.report.models_view import model_sections
from compiler.report.money_view import revenue_section
from compiler.report.view import Section
from compiler.templating import environment

__all__ = ["ReportInputs", "render", "sections"]
MODELS_HEADING = "Models: who buys, who churns, what they are worth"


def sections(inputs: ReportInputs) -> list[tuple[str, list[Section]]]:
    """The page's sections in order, in groups: (group heading, sections); the models' group
    only when trained model files were given."""
    groups = [
        ("", [levers_view.levers_section(inputs)]),
        (
            "Measured from the export",
            [
                funnel_view.funnel_section(inputs),
                funnel_view.milestones_section(inputs),
                revenue_section(inputs),
                churn_view.churn_section(inputs),
                churn_view.hazard_section(inputs),
            ],
        ),
        (
            "Forecast: measured rates plus the plan's assumptions",
            [forecast_view.forecast_section(inputs), forecast_view.assumptions_section(inputs)],
        ),
        ("Tracking health", [audit_view.audit_section(inputs)]),
    ]
    if inputs.models:
        groups.insert(3, (MODELS_HEADING, model_sections(inputs.models)))
    return groups


def render(inputs: ReportInputs) -> str:
    template = environment(autoescape=True).get_template("report/report.html.j2")
    return template.render(
        plan=inputs.plan,
        sources=inputs.sources,
        window=funnel_view.window_lines(inputs),
        headline=audit_view.headline(inputs),
        groups=sections(inputs),
        rows_total=inputs.audit.rows_total if inputs.audit else None,
    )
