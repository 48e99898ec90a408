"""The report's view model: sections of plain strings and SVG decided in Python.

A section the plan or the data cannot support keeps its title and ONE line saying why
(`Section.missing`), never an empty table. Names on the page come from the plan (state names,
milestone and outcome titles), never from state ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.funnel.intervals import Proportion
from compiler.plan.model import Plan
from compiler.report.charts import Estimate
from compiler.templating import count as count
from compiler.templating import percent


@dataclass
class Table:
    head: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    text_columns: int = 1  # leading columns that hold text; the rest are right-aligned numbers
    row_classes: list[str] = field(default_factory=list)  # per row, "" for none
    trailing_text: int = 0  # trailing columns that hold text (left-aligned) too

    def numeric(self, column: int) -> bool:
        return self.text_columns <= column < len(self.head) - self.trailing_text

    def row_class(self, index: int) -> str:
        return self.row_classes[index] if index < len(self.row_classes) else ""


@dataclass
class Chart:
    svg: str
    label: str  # what the chart shows, for screen readers


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # one-line remarks under the tables
    # ordered lists above the tables, each under a short heading
    steps: list[tuple[str, list[str]]] = field(default_factory=list)
    missing: str = ""  # why the section has nothing to show


def absent(section_id: str, title: str, why: str) -> Section:
    return Section(section_id, title, missing=why[:1].upper() + why[1:].rstrip(".") + ".")


pct = percent  # the report and the doc site format numbers one way (compiler/templating.py)


def money(value: float | None, currency: str | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}" + (f" {currency}" if currency else "")


def span(low: float | None, high: float | None) -> str:
    """A 95% interval as `low – high`, or a dash when either end is unknown."""
    return f"{pct(low)} – {pct(high)}" if low is not None and high is not None else "–"


def interval(p: Proportion) -> str:
    return span(*p.interval())


def estimate(label: str, p: Proportion) -> Estimate | None:
    low, high = p.interval()
    if p.rate is None or low is None or high is None:
        return None
    return Estimate(label, p.rate, low, high)


def first_step(plan: Plan) -> str:
    """The name of the funnel's first step, for sentences about its people."""
    return plan.chain[0].name if plan.chain else "the first step"


def state_name(plan: Plan, state_id: str | None) -> str:
    """A state's name from the plan; the id only when the plan does not know it."""
    state = plan.state(state_id) if state_id else None
    return state.name if state else (state_id or "–")


def transition_label(plan: Plan, name: str) -> str:
    """`TO|FROM` as `From → To` in state names."""
    to, _, frm = name.partition("|")
    return f"{state_name(plan, frm)} → {state_name(plan, to)}" if frm else name


def day(timestamp: str | None) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM UTC` (the input is already UTC)."""
    if not timestamp:
        return "–"
    text = timestamp.replace("T", " ")
    return text[:16] + " UTC"
