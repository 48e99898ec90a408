"""Report sections on churn: per-person one-off churn, monthly subscription churn, the hazard."""

from __future__ import annotations

from compiler.funnel.intervals import Proportion
from compiler.report import charts
from compiler.report.inputs import ReportInputs
from compiler.report.view import (
    Chart,
    Section,
    Table,
    absent,
    count,
    estimate,
    interval,
    pct,
    state_name,
)


def _one_off(inputs: ReportInputs, section: Section) -> bool:
    found = inputs.rates.one_off if inputs.rates else {}
    observed = {d: p for d, p in sorted(found.items()) if p.denominator}
    if not observed:
        why = inputs.why("one_off", default="no one-off purchase was observed long enough")
        section.notes.append(f"One-off purchase churn: {why}.")
        return False
    table = Table(
        ["no activity within", "churned", "of", "churn", "95% interval", "came back"],
        caption="One-off purchase churn, each person from their own first purchase",
    )
    points = []
    for days, p in observed.items():
        back = None if p.rate is None else 1 - p.rate
        table.rows.append(
            [
                f"{days} days",
                count(p.numerator),
                count(p.denominator),
                pct(p.rate),
                interval(p),
                pct(back),
            ]
        )
        if (e := estimate(f"{days} d", p)) is not None:
            points.append((days, e))
    unobserved = sorted(set(found) - set(observed))
    if unobserved:
        windows = ", ".join(str(d) for d in unobserved)
        section.notes.append(
            f"No one's first one-off purchase is old enough to judge churn at {windows} days yet, "
            "so those windows are left out."
        )
    if len(observed) > 1:
        section.notes.append(
            "Each window counts only the people whose first one-off purchase is at least that "
            "many days before the as-of date, so the windows cover different people."
        )
    if points:
        section.charts.append(
            Chart(
                charts.churn_windows(points),
                "Share of one-off buyers with no activity within each window, 95% intervals",
            )
        )
    section.tables.append(table)
    return True


def _subscriptions(inputs: ReportInputs, section: Section) -> bool:
    months = inputs.rates.subscription_monthly if inputs.rates else {}
    shown = {m: c for m, c in sorted(months.items()) if c.proportion.denominator}
    if not shown:
        why = inputs.why(
            "subscription_monthly", default="no subscription was active at the start of a month"
        )
        section.notes.append(f"Monthly subscription churn: {why}.")
        return False
    table = Table(
        ["month", "canceled", "active at its start", "churn", "95% interval", "observed"],
        caption="Monthly subscription churn",
        trailing_text=1,
    )
    periods = []
    for month, c in shown.items():
        p = c.proportion
        note = f"partial: {c.observed_days} of {c.days} days" if c.partial else "whole month"
        table.rows.append(
            [month, count(p.numerator), count(p.denominator), pct(p.rate), interval(p), note]
        )
        table.row_classes.append("partial" if c.partial else "")
        periods.append(charts.Period(month, p.rate or 0.0, p.numerator, p.denominator, c.partial))
    empty = len(months) - len(shown)
    if empty:
        section.notes.append(
            f"{empty} month(s) with no active subscription at their start are left out "
            "(no rate, not 0%)."
        )
    if any(c.partial for c in shown.values()):
        section.notes.append(
            "A partial month is still open at the as-of date (or starts before the first "
            "event): its churn so far is not a monthly rate."
        )
    section.charts.append(
        Chart(
            charts.monthly(periods, "canceled in the month"),
            "Monthly subscription churn; hatched bars are partial months",
        )
    )
    section.tables.append(table)
    return True


def churn_section(inputs: ReportInputs) -> Section:
    title = "Churn"
    churn = inputs.plan.churn
    if churn is None:
        return absent("churn", title, "the plan declares no churn section")
    active = " or ".join(churn.activity_events)
    section = Section(
        "churn",
        title,
        " ".join(
            part
            for part in (
                churn.description,
                "Each person is measured from their own first one-off purchase: churned "
                f"within N days means no {active or 'activity'} and no further one-off purchase "
                "in the N days after it, counted only for people whose N days ended by the "
                "as-of date. Subscriptions: canceled in a month over active at its start.",
            )
            if part
        ),
    )
    shown = [_one_off(inputs, section), _subscriptions(inputs, section)]
    if not any(shown):
        return absent("churn", title, " ".join(section.notes).rstrip("."))
    return section


def _facts_label(facts: dict[str, bool]) -> str:
    held = [name for name, holds in facts.items() if holds]
    return " + ".join(held) if held else "none"


def hazard_section(inputs: ReportInputs) -> Section:
    title = "Churn hazard"
    hazard = inputs.plan.hazard
    if hazard is None:
        return absent("hazard", title, "the plan declares no churn hazard")
    cells = inputs.rates.hazard if inputs.rates else None
    if cells is None or not cells.cells:
        return absent(
            "hazard", title, inputs.why("hazard", default="no hazard cells were measured")
        )
    plan = inputs.plan
    at_risk, anchor = state_name(plan, hazard.at_risk), state_name(plan, hazard.anchor)
    churned_state = state_name(plan, hazard.state)
    start = f"their first {anchor} (else their {at_risk})" if hazard.anchor else at_risk
    section = Section(
        "hazard",
        title,
        f"People who reached {at_risk}, by which of the plan's facts held at {start}. Observed: "
        f"{hazard.window_days} days passed after that before the as-of date; churned: observed "
        f"and reached {churned_state} within those days.",
    )
    table = Table(
        ["facts that held", "people", "observed", "churned", "churn", "95% interval"],
        caption="Churn by hazard cell",
    )
    estimates = []
    for cell in cells.cells:
        p = Proportion(cell.churned, cell.observed)
        label = _facts_label(dict(cell.facts))
        table.rows.append(
            [
                label,
                count(cell.persons),
                count(cell.observed),
                count(cell.churned),
                pct(p.rate),
                interval(p),
            ]
        )
        if (e := estimate(label, p)) is not None:
            estimates.append(e)
    if estimates:
        section.charts.append(
            Chart(
                charts.rates(estimates, f"churned within {hazard.window_days} days"),
                "Observed churn per hazard cell with 95% intervals",
            )
        )
    section.tables.append(table)
    model = _model_table(inputs)
    if model is not None:
        section.tables.append(model)
    return section


def _model_table(inputs: ReportInputs) -> Table | None:
    hazard = inputs.config.hazard if inputs.config else None
    if hazard is None:
        return None
    table = Table(
        ["parameter", "value", "from"],
        caption="The hazard model the forecast uses",
        trailing_text=1,
    )
    table.rows.append(["base", pct(hazard.base), _source(hazard.base_source)])
    for c in hazard.covariates.values():
        table.rows.append([f"extra if {c.name}", f"+{pct(c.extra)}", _source(c.extra_source)])
        table.rows.append([f"share with {c.name}", pct(c.share), _source(c.share_source)])
    table.rows.append(["cap", pct(hazard.max), "plan (assumption)"])
    return table


def _source(source: str) -> str:
    return "measured" if source == "fit" else "plan default (assumption)"
