"""The revenue section: gross, refunds and net per currency, per payer and per entrant."""

from __future__ import annotations

from compiler.report.inputs import ReportInputs
from compiler.report.view import Section, Table, absent, count, first_step, money


def _sources(inputs: ReportInputs) -> str:
    revenue = inputs.plan.revenue
    if revenue is None:
        return ""
    gross = ", ".join(f"{s.event}.{s.value}" for s in revenue.events)
    refunds = ", ".join(f"{s.event}.{s.value}" for s in revenue.refunds)
    text = f"Gross is the sum of {gross}"
    text += f"; refunds the sum of {refunds}; net = gross − refunds." if refunds else "."
    return text


def revenue_section(inputs: ReportInputs) -> Section:
    title = "Revenue"
    if inputs.plan.revenue is None:
        return absent("revenue", title, "the plan declares no revenue section")
    rows = inputs.rates.revenue if inputs.rates else []
    if not rows:
        why = inputs.why("revenue", default="the export has no revenue events")
        return absent("revenue", title, why)
    first = first_step(inputs.plan)
    intro = " ".join(
        part
        for part in (
            inputs.plan.revenue.description,
            _sources(inputs),
            "Each currency is summed on its own, never converted.",
        )
        if part
    )
    section = Section("revenue", title, intro)
    currencies = [r.currency or "no currency" for r in rows]
    table = Table(["measure", *currencies], caption="Revenue by currency")
    measures: list[tuple[str, list[str]]] = [
        ("gross revenue", [money(r.gross, r.currency) for r in rows]),
        ("refunds", [money(r.refunds, r.currency) for r in rows]),
        ("net revenue", [money(r.net, r.currency) for r in rows]),
        ("payments", [count(r.events) for r in rows]),
        ("refunds issued", [count(r.refund_events) for r in rows]),
        ("paying people", [count(r.payers) for r in rows]),
        ("net per paying person", [money(r.per_payer, r.currency) for r in rows]),
        (f"net per person who reached {first}", [money(r.per_entrant, r.currency) for r in rows]),
    ]
    for label, cells in measures:
        table.rows.append([label, *cells])
        table.row_classes.append("strong" if label == "net revenue" else "")
    section.tables.append(table)
    return section


def revenue_headlines(inputs: ReportInputs) -> list[tuple[str, str]]:
    rows = inputs.rates.revenue if inputs.rates else []
    return [
        (
            f"net revenue{f' ({r.currency})' if len(rows) > 1 and r.currency else ''}",
            money(r.net, r.currency),
        )
        for r in rows[:2]
    ]
