""" "What to do next": the levers of the sweep, ranked by their effect on the objective.

Levers whose exact expected effects are equal (relative tolerance from the sweep, 1e-9) share
one rank and are shown as a tie, never as one "best" lever. In a chain, +10% relative on any
step scales the objective alike, so that ranking is mostly one big tie; +1 point separates the
steps (a point is worth more on a low rate), so both rankings are shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from compiler.report import charts
from compiler.report.forecast_view import outcome_title
from compiler.report.inputs import ReportInputs
from compiler.report.view import (
    Chart,
    Section,
    Table,
    absent,
    first_step,
    pct,
    transition_label,
)

TOP_RANKS = 3  # rank groups spelled out in the "what to do next" list
CHANGE_TEXT = {"+10%": "+10% relative", "+1pt": "+1 percentage point"}


def lever_label(inputs: ReportInputs, row: Mapping[str, Any]) -> str:
    """A lever in the plan's words: steps by state names (and alias), the entry by its title."""
    lever, kind = str(row.get("lever", "")), row.get("kind")
    config = inputs.config
    if kind == "entry" and config is not None and config.entry is not None:
        first = first_step(inputs.plan)
        return f"{config.entry.title} → {first}"
    if kind == "hazard":
        return "churn hazard base (lowered)"
    if "|" in lever:
        to, _, frm = lever.partition("|")
        transition = inputs.plan.transition(to, frm)
        alias = f" ({transition.alias})" if transition is not None and transition.alias else ""
        return transition_label(inputs.plan, lever) + alias
    label = row.get("label")
    return label if isinstance(label, str) and label else lever


def _groups(rows: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Rows of one change, grouped by shared rank, best rank first."""
    by_rank: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_rank.setdefault(int(row["rank"]), []).append(row)
    return [by_rank[r] for r in sorted(by_rank)]


def _gain(value: Any) -> str:
    return f"{float(value):+,.1f}" if isinstance(value, int | float) else "–"


def _item(inputs: ReportInputs, group: list[Mapping[str, Any]], objective: str) -> str:
    change = CHANGE_TEXT.get(str(group[0]["change"]), str(group[0]["change"]))
    gain = _gain(group[0]["expected_gain"])
    names = [
        lever_label(inputs, r) + (" (an assumption)" if r.get("assumption") else "") for r in group
    ]
    rank = int(group[0]["rank"])
    if len(group) == 1:
        return f"#{rank}: {names[0]}: {change} gives {gain} {objective} (expected)."
    return (
        f"#{rank}, a tie of {len(group)} levers: {', '.join(names)}. {change.capitalize()} on "
        f"any one of them gives the same {gain} {objective} (expected, equal within a relative "
        "1e-9)."
    )


def _table(inputs: ReportInputs, groups: list[list[Mapping[str, Any]]], change: str) -> Table:
    table = Table(
        ["rank", "lever", "from → to", "expected gain", "simulated gain"],
        caption=f"Levers ranked by {CHANGE_TEXT.get(change, change)}",
        text_columns=2,
    )
    for group in groups:
        tie = len(group) > 1
        for row in group:
            table.rows.append(
                [
                    f"#{row['rank']}" + ("=" if tie else ""),
                    lever_label(inputs, row) + (" (assumption)" if row.get("assumption") else ""),
                    f"{pct(float(row['from']))} → {pct(float(row['to']))}",
                    _gain(row["expected_gain"]),
                    _gain(row.get("gain")),
                ]
            )
            table.row_classes.append("tie" if tie else "")
    return table


def levers_section(inputs: ReportInputs) -> Section:
    title = "What to do next"
    if not inputs.sweep:
        why = inputs.why("sweep", "forecast", default="no lever sweep was run")
        return absent("levers", title, why)
    objective_name = str(inputs.sweep[0].get("objective", ""))
    objective = outcome_title(inputs, objective_name).lower() if objective_name else "outcome"
    section = Section(
        "levers",
        title,
        f"Each lever improved on its own, the forecast run again with the same random numbers, "
        f"and the change in {objective} ranked by its exact expected value. Levers whose "
        "effects are equal share a rank: a tie, not a winner.",
    )
    changes = list(dict.fromkeys(str(r["change"]) for r in inputs.sweep))
    idle: list[str] = []
    for change in changes:
        groups = _groups([r for r in inputs.sweep if r["change"] == change])
        moving = [g for g in groups if not _no_effect(g[0])]
        idle = [lever_label(inputs, r) for g in groups if _no_effect(g[0]) for r in g]
        text = CHANGE_TEXT.get(change, change)
        section.steps.append(
            (f"Levers ranked by {text}", [_item(inputs, g, objective) for g in moving[:TOP_RANKS]])
        )
        section.tables.append(_table(inputs, groups, change))
        if change == changes[0]:
            bars = [
                charts.Lever(
                    lever_label(inputs, r), float(r["expected_gain"]), int(r["rank"]), len(g) > 1
                )
                for g in moving
                for r in g
            ]
            section.charts.append(
                Chart(
                    charts.levers(bars, f"expected change in {objective}, {text}"),
                    f"Levers ranked by {text}; tied levers share a rank",
                )
            )
    if idle:
        section.notes.append(f"No effect on {objective} (they act after it): {', '.join(idle)}.")
    return section


def _no_effect(row: Mapping[str, Any]) -> bool:
    gain = abs(float(row["expected_gain"]))
    return gain <= float(row.get("tolerance", 1e-9)) * max(abs(float(row.get("expected", 0))), 1.0)
