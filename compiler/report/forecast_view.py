"""Report sections on what comes next: the forecast, the rates it uses, and the assumptions."""

from __future__ import annotations

from compiler.report import charts
from compiler.report.inputs import ReportInputs
from compiler.report.view import (
    Chart,
    Section,
    Table,
    absent,
    count,
    first_step,
    pct,
    span,
    state_name,
    transition_label,
)


def outcome_title(inputs: ReportInputs, name: str) -> str:
    """An outcome's title from the plan's forecast, else the forecast's, else a state's name."""
    declared = inputs.plan.forecast.outcome(name) if inputs.plan.forecast else None
    if declared is not None:
        return declared.title
    titles = inputs.forecast.titles if inputs.forecast else {}
    title = titles.get(name, name)
    return state_name(inputs.plan, title) if inputs.plan.state(title) else title


def cohort_text(inputs: ReportInputs) -> str:
    forecast, config = inputs.forecast, inputs.config
    if forecast is None:
        return "the cohort"
    text = f"{forecast.cohort:,} {forecast.cohort_label}"
    entry = config.entry if config else None
    if entry is not None:
        first = first_step(inputs.plan)
        text += f" ({entry.title}; {pct(entry.rate, 2)} of them reach {first}, an assumption)"
    return text


def forecast_section(inputs: ReportInputs) -> Section:
    title = "Forecast"
    forecast = inputs.forecast
    if forecast is None:
        return absent("forecast", title, inputs.why("forecast", default="no forecast was run"))
    section = Section(
        "forecast",
        title,
        f"Monte Carlo forecast for {cohort_text(inputs)}, {forecast.runs:,} runs: each run draws "
        "every measured rate from its posterior (so the ranges carry the data's uncertainty) "
        "and then the people, step by step. Median and 5–95% range.",
    )
    quantiles, mean = forecast.quantiles(), forecast.mean()
    table = Table(["outcome", "mean", "5%", "median", "95%"])
    ranges = []
    for name, q in quantiles.items():
        label = outcome_title(inputs, name)
        table.rows.append(
            [label, f"{mean[name]:,.1f}", f"{q['p5']:,.0f}", f"{q['p50']:,.0f}", f"{q['p95']:,.0f}"]
        )
        ranges.append(charts.Range(label, q["p5"], q["p50"], q["p95"]))
    if ranges:
        section.charts.append(
            Chart(charts.forecast(ranges, "people"), "Forecast outcomes: median and 5–95% range")
        )
    section.tables.append(table)
    rates = _rates_table(inputs)
    if rates is not None:
        section.tables.append(rates)
    return section


def _rates_table(inputs: ReportInputs) -> Table | None:
    config = inputs.config
    if config is None or not config.transitions:
        return None
    table = Table(
        ["step", "rate", "95% interval", "from"],
        caption="Rates the forecast uses",
        trailing_text=1,
    )
    needed = set(config.needed())
    for name, t in config.transitions.items():
        if name not in needed:
            continue
        ci = span(t.ci_low, t.ci_high)
        if t.source == "fit":
            origin = f"measured ({count(t.numerator)} of {count(t.denominator)})"
        else:
            origin = "plan default (assumption)"
        table.rows.append([transition_label(inputs.plan, name), pct(t.rate), ci, origin])
        table.row_classes.append("" if t.source == "fit" else "assumed")
    return table


def assumptions_section(inputs: ReportInputs) -> Section:
    """What the forecast takes from the plan rather than from the export, apart from the rest."""
    title = "Assumptions (not measured)"
    config = inputs.config
    if config is None:
        why = inputs.why("fit", "forecast", default="no rates were fitted")
        return absent("assumptions", title, why)
    section = Section(
        "assumptions",
        title,
        "Everything else in this report is measured from the export. These values come from "
        "the plan; the forecast and the ranking of levers depend on them, so check them.",
    )
    items: list[list[str]] = []
    if config.entry is not None:
        first = first_step(inputs.plan)
        why = config.entry.description or "the export cannot hold what happens before the funnel"
        items.append([f"{config.entry.title} → {first}", pct(config.entry.rate, 2), why])
    needed = set(config.needed())
    for name, t in config.transitions.items():
        if t.source != "fit" and name in needed:
            at = state_name(inputs.plan, t.from_state)
            reason = (
                f"kept from the plan's default: the export had no one at {at}"
                if not t.denominator
                else "kept from the plan's default: the data did not support a fit"
            )
            items.append([transition_label(inputs.plan, name), pct(t.rate), reason])
    hazard = config.hazard
    if hazard is not None:
        if hazard.base_source != "fit":
            items.append(["churn hazard base", pct(hazard.base), "plan default, not fitted"])
        for c in hazard.covariates.values():
            if c.extra_source != "fit":
                items.append(
                    [f"extra churn if {c.name}", f"+{pct(c.extra)}", "plan default, not fitted"]
                )
            if c.share_source != "fit":
                items.append(
                    [f"share of people with {c.name}", pct(c.share), "plan default, not fitted"]
                )
        items.append(
            ["churn probability cap", pct(hazard.max), "the plan's; data cannot identify it"]
        )
    if not items:
        section.notes.append("None: every value the forecast uses was measured from the export.")
        return section
    section.tables.append(Table(["value", "assumed", "why"], items, trailing_text=1))
    return section
