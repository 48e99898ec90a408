"""The report's view model: plain numbers and strings decided in Python, from the JSON results
of `rates`, `audit`, `fit` and `simulate` (each optional), and the plan."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from compiler.plan.model import Plan
from compiler.report import charts
from compiler.report.charts import Estimate


@dataclass(frozen=True)
class ReportInputs:
    plan: Plan
    sources: tuple[str, ...]
    rates: dict[str, Any] | None = None
    audit: dict[str, Any] | None = None
    fitted: dict[str, Any] | None = None
    forecast: dict[str, Any] | None = None
    forecast_impressions: int | None = None


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    svg: str = ""
    table_head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    missing: str = ""  # why the section has nothing to show
    text_columns: int = 1  # leading columns that hold text; the rest are right-aligned numbers


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, int | float) else "–"


def _estimate(label: str, body: Any) -> Estimate | None:
    if not isinstance(body, dict) or not isinstance(body.get("rate"), int | float):
        return None
    rate = float(body["rate"])
    return Estimate(label, rate, float(body.get("ci_low", rate)), float(body.get("ci_high", rate)))


def _interval(body: dict[str, Any]) -> str:
    if "ci_low" not in body:
        return "–"
    return f"{_pct(body['ci_low'])} – {_pct(body['ci_high'])}"


def _count(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return f"{value:,}" if isinstance(value, int) else "–"


def funnel_section(inputs: ReportInputs) -> Section:
    section = Section(
        "funnel",
        "Funnel: S0 → S9",
        "A person reaches S_k at the earliest S_k event at or after reaching S_(k-1). Each rate is persons reaching S_k ÷ persons reaching S_(k-1), with a 95% interval.",
    )
    transitions = (inputs.rates or {}).get("transitions") or {}
    names = {s.id: f"{s.id} {s.name}" for s in inputs.plan.states}
    steps, counts = [], []
    for t in inputs.plan.transitions:
        body = transitions.get(t.name)
        estimate = _estimate(f"{t.name}", body)
        if estimate is None:
            continue
        steps.append(estimate)
        if not counts and isinstance(body.get("denominator"), int):
            counts.append((names[t.from_state], body["denominator"]))
        if (
            isinstance(body.get("numerator"), int)
            and t.to_state in names
            and int(t.to_state[1:]) <= 9
        ):
            counts.append((names[t.to_state], body["numerator"]))
        section.rows.append(
            [
                t.name,
                t.description,
                _count(body, "numerator"),
                _count(body, "denominator"),
                _pct(body["rate"]),
                _interval(body),
            ]
        )
    section.table_head = ["transition", "meaning", "reached", "from", "rate", "95% interval"]
    section.text_columns = 2
    if not steps:
        section.missing = "No transition rates were computed."
        return section
    section.svg = charts.funnel(counts, [s for s in steps if int(s.label.split("|")[0][1:]) <= 9])
    return section


def milestones_section(inputs: ReportInputs) -> Section:
    section = Section(
        "milestones",
        "North-star milestones",
        "Share of people who clicked an ad (S0) that reached each milestone, and P(purchase | click) with its decomposition.",
    )
    rates = inputs.rates or {}
    estimates = []
    titles = {m.name: m.title for m in inputs.plan.milestones.values()}
    for name, body in (rates.get("milestones") or {}).items():
        estimate = _estimate(titles.get(name, name), body)
        if estimate:
            estimates.append(estimate)
            section.rows.append(
                [
                    titles.get(name, name),
                    _count(body, "numerator"),
                    _count(body, "denominator"),
                    _pct(body["rate"]),
                    _interval(body),
                ]
            )
    ppc = rates.get("purchase_per_click")
    overall = _estimate(
        "P(purchase | click)", ppc.get("overall", ppc) if isinstance(ppc, dict) else None
    )
    if overall:
        estimates.append(overall)
        section.rows.append(
            [
                overall.label,
                "",
                "",
                _pct(overall.rate),
                f"{_pct(overall.low)} – {_pct(overall.high)}",
            ]
        )
    section.table_head = ["milestone", "reached", "of", "rate", "95% interval"]
    if not estimates:
        section.missing = "No milestone rates were computed."
        return section
    section.svg = charts.rates(estimates, zoom=True)
    return section


def churn_section(inputs: ReportInputs) -> Section:
    section = Section(
        "churn",
        "Churn",
        "Behavioural churn of credit-pack users by days without a completed job, and monthly subscription churn (canceled in month ÷ active at its start).",
    )
    churn = (inputs.rates or {}).get("churn") or {}
    curve = []
    for name, body in _flatten_rates(churn):
        days = re.search(r"(\d+)\s*d", name)
        estimate = _estimate(name, body)
        if estimate is None:
            continue
        if days and "subscription" not in name:
            curve.append((int(days.group(1)), estimate))
        section.rows.append(
            [
                name.replace("_", " "),
                _count(body, "numerator"),
                _count(body, "denominator"),
                _pct(body["rate"]),
                _interval(body),
            ]
        )
    section.table_head = ["measure", "churned", "of", "rate", "95% interval"]
    if curve:
        section.svg = charts.churn_curve(sorted(curve))
    elif not section.rows:
        section.missing = "No churn figures were computed."
    return section


def _flatten_rates(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "rate" in value:
            out.append((name, value))
        elif isinstance(value, dict):
            out += _flatten_rates(value, f"{name} ")
    return out


def audit_section(inputs: ReportInputs) -> Section:
    section = Section(
        "audit",
        "Tracking health (audit)",
        "Rows checked against the plan. Health is the share of rows with no finding; worst categories and events first.",
    )
    audit = inputs.audit
    if not audit:
        section.missing = "No audit was run."
        return section
    events = audit.get("events") or {}
    per_category = []
    for category in inputs.plan.categories.values():
        names = [e.name for e in inputs.plan.events_in(category.name)]
        rows = sum(int(events.get(n, {}).get("count", 0)) for n in names)
        bad = sum(int(events.get(n, {}).get("rows_with_violations", 0)) for n in names)
        seen = sum(1 for n in names if events.get(n, {}).get("count"))
        per_category.append(
            (1 - bad / rows if rows else 1.0, category.title, seen, len(names), rows, bad)
        )
    section.table_head = ["category", "events seen", "rows", "rows with findings", "health"]
    per_category.sort(key=lambda c: (c[4] == 0, c[0], c[1]))  # categories with no rows last
    for health, title, seen, total, rows, bad in per_category:
        section.rows.append(
            [
                title,
                f"{seen} / {total}",
                f"{rows:,}",
                f"{bad:,}",
                _pct(health) if rows else "no rows",
            ]
        )
    seen_categories = [Estimate(t, h, h, h) for h, t, _, _, rows, _ in per_category if rows]
    if seen_categories:
        section.svg = charts.rates(seen_categories, "share of rows with no finding")
    return section


def worst_events(inputs: ReportInputs, limit: int = 12) -> list[list[str]]:
    events = (inputs.audit or {}).get("events") or {}
    ranked = sorted(
        (
            (v.get("rows_with_violations", 0) / v["count"] if v.get("count") else 0.0, name, v)
            for name, v in events.items()
        ),
        key=lambda x: (-x[0], x[1]),
    )
    return [
        [
            name,
            f"{v.get('count', 0):,}",
            f"{v.get('rows_with_violations', 0):,}",
            _pct(share),
            str(v.get("last_seen", "–")),
        ]
        for share, name, v in ranked[:limit]
        if share > 0
    ]


def top_findings(inputs: ReportInputs, limit: int = 15) -> list[list[str]]:
    findings = sorted(
        (inputs.audit or {}).get("findings") or [],
        key=lambda f: (-int(f.get("count", 0)), f.get("kind", ""), f.get("event") or ""),
    )
    return [
        [
            f.get("kind", ""),
            f.get("event") or "–",
            f.get("property") or "–",
            f"{int(f.get('count', 0)):,}",
        ]
        for f in findings[:limit]
    ]


def forecast_section(inputs: ReportInputs) -> Section:
    impressions = (
        f"{inputs.forecast_impressions:,} impressions"
        if inputs.forecast_impressions
        else "the simulated cohort"
    )
    section = Section(
        "forecast",
        "Forecast",
        f"Monte Carlo forecast for {impressions} from the fitted rates, carrying their uncertainty and sampling noise: median and 5–95% range.",
    )
    quantiles = (inputs.forecast or {}).get("quantiles") or {}
    mean = (inputs.forecast or {}).get("mean") or {}
    metrics = []
    for name, q in quantiles.items():
        if isinstance(q, dict) and {"p5", "p50", "p95"} <= q.keys():
            metrics.append(
                (name.replace("_", " "), float(q["p5"]), float(q["p50"]), float(q["p95"]))
            )
            section.rows.append(
                [
                    name.replace("_", " "),
                    f"{float(mean.get(name, q['p50'])):,.1f}",
                    f"{float(q['p5']):,.0f}",
                    f"{float(q['p50']):,.0f}",
                    f"{float(q['p95']):,.0f}",
                ]
            )
    section.table_head = ["metric", "mean", "p5", "p50", "p95"]
    if not metrics:
        section.missing = "No forecast was run."
        return section
    section.svg = charts.forecast(metrics)
    return section


def fitted_rows(inputs: ReportInputs) -> list[list[str]]:
    transitions = (inputs.fitted or {}).get("transitions") or {}
    defaults = {t.name: t.rate for t in inputs.plan.transitions}
    return [
        [name, _pct(body.get("rate")), _interval(body), _pct(defaults.get(name))]
        for name, body in sorted(transitions.items(), key=lambda kv: int(kv[0].split("|")[0][1:]))
    ]


def headline(inputs: ReportInputs) -> list[tuple[str, str]]:
    rates = inputs.rates or {}
    out = []
    ppc = rates.get("purchase_per_click")
    if isinstance(ppc, dict):
        out.append(("P(purchase | click)", _pct(ppc.get("overall", ppc).get("rate"))))
    for name, body in (rates.get("milestones") or {}).items():
        if isinstance(body, dict) and "rate" in body:
            out.append(
                (
                    inputs.plan.milestones[name].title if name in inputs.plan.milestones else name,
                    _pct(body["rate"]),
                )
            )
    if inputs.audit:
        total = int(inputs.audit.get("rows_total", 0))
        out.append(("rows audited", f"{total:,}"))
        # never_seen is coverage information (severity info), not a problem with the data
        problems = [f for f in inputs.audit.get("findings") or [] if f.get("severity") != "info"]
        out.append(("findings", f"{sum(int(f.get('count', 0)) for f in problems):,}"))
    return out
