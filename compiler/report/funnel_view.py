"""Report sections on conversion: the observation window, the funnel and the milestones."""

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
    day,
    estimate,
    first_step,
    interval,
    pct,
    state_name,
)


def window_lines(inputs: ReportInputs) -> list[tuple[str, str]]:
    """The observation window printed at the top: what the numbers cover and are judged from."""
    rates = inputs.rates
    if rates is None:
        return [("Observation window", "no rates were computed")]
    conversion = (
        f"within {rates.window_days} days of the first step"
        if rates.window_days
        else "the whole observation window"
    )
    return [
        ("First event", day(rates.first_event)),
        ("Last event (as of)", day(rates.as_of)),
        ("Conversions counted", conversion),
    ]


def chain_steps(inputs: ReportInputs) -> list[tuple[str, Proportion]]:
    """(to-state id, proportion) for each consecutive pair of the chain that rates measured."""
    rates, chain = inputs.rates, inputs.plan.chain
    if rates is None:
        return []
    steps = []
    for prev, state in zip(chain, chain[1:], strict=False):
        found = rates.transitions.get(f"{state.id}|{prev.id}")
        if found is None:
            break
        steps.append((state.id, found))
    return steps


def funnel_section(inputs: ReportInputs) -> Section:
    title = "Funnel"
    plan = inputs.plan
    if len(plan.chain) < 2:
        return absent("funnel", title, "the plan's funnel has fewer than two event states")
    steps = chain_steps(inputs)
    if not steps:
        return absent(
            "funnel", title, inputs.why("funnel", default="no funnel rates were computed")
        )
    first = plan.chain[0]
    if not steps[0][1].denominator:
        why = f"no one in the export reached {first.name} (its event {first.event})"
        return absent("funnel", title, why)
    section = Section(
        "funnel",
        f"Funnel: {first.name} → {state_name(plan, steps[-1][0])}",
        "A person reaches a step at their first event of that step at or after reaching the one "
        "before. Each rate is the people reaching the step over the people who reached the "
        "previous one, with its 95% interval.",
    )
    reached = [(first.name, steps[0][1].denominator)]
    reached += [(state_name(plan, to), p.numerator) for to, p in steps]
    section.charts.append(Chart(charts.reach(reached), "People reaching each step of the funnel"))
    found = [e for to, p in steps if (e := estimate(state_name(plan, to), p)) is not None]
    if found:
        section.charts.append(
            Chart(
                charts.rates(found, "conversion from the previous step"),
                "Conversion into each step from the one before, with 95% intervals",
            )
        )
    table = Table(["step", "reached", "of", "rate", "95% interval"])
    prev = first.name
    for to, p in steps:
        name = state_name(plan, to)
        table.rows.append(
            [f"{prev} → {name}", count(p.numerator), count(p.denominator), pct(p.rate), interval(p)]
        )
        prev = name
    table.rows += _rule_rows(inputs)
    section.tables.append(table)
    return section


def _rule_rows(inputs: ReportInputs) -> list[list[str]]:
    """Rule states measured per person (e.g. came back within N days after a purchase)."""
    rows: list[list[str]] = []
    if inputs.rates is None:
        return rows
    for state in inputs.plan.states:
        rule = state.rule
        if rule is None or rule.after is None:
            continue
        p = inputs.rates.transitions.get(f"{state.id}|{rule.after}")
        if p is None:
            continue
        label = f"{state_name(inputs.plan, rule.after)} → {state.name} (within {rule.days} days)"
        rows.append([label, count(p.numerator), count(p.denominator), pct(p.rate), interval(p)])
    return rows


def milestones_section(inputs: ReportInputs) -> Section:
    title = "Milestones"
    plan = inputs.plan
    if not plan.milestones:
        return absent("milestones", title, "the plan declares no milestones")
    found = inputs.rates.milestones if inputs.rates else {}
    if not found:
        why = inputs.why("milestones", default="no milestone rates were computed")
        return absent("milestones", title, why)
    first = first_step(plan)
    section = Section(
        "milestones",
        title,
        f"Share of the people who reached {first} that reached each milestone (its event, "
        "counted once per person), with its 95% interval.",
    )
    table = Table(["milestone", "event", "reached", "of", "rate", "95% interval"], text_columns=2)
    estimates = []
    for name, milestone in plan.milestones.items():
        p = found.get(name)
        if p is None:
            continue
        table.rows.append(
            [
                milestone.title,
                milestone.event,
                count(p.numerator),
                count(p.denominator),
                pct(p.rate),
                interval(p),
            ]
        )
        if (e := estimate(milestone.title, p)) is not None:
            estimates.append(e)
    objective = inputs.rates.objective if inputs.rates else None
    if objective is not None:
        p = objective.proportion
        label = _objective_label(inputs)
        table.rows.append(
            [label, "", count(p.numerator), count(p.denominator), pct(p.rate), interval(p)]
        )
        if (e := estimate(label, p)) is not None:
            estimates.append(e)
    if estimates:
        section.charts.append(
            Chart(
                charts.rates(estimates, f"share of people who reached {first}", zoom=True),
                "Milestone rates with 95% intervals",
            )
        )
    section.tables.append(table)
    return section


def _objective_label(inputs: ReportInputs) -> str:
    objective = inputs.rates.objective if inputs.rates else None
    if objective is None:
        return ""
    to, _, frm = objective.transition.partition("|")
    return f"{state_name(inputs.plan, to)} per {state_name(inputs.plan, frm)}"


def objective_headline(inputs: ReportInputs) -> tuple[str, str] | None:
    objective = inputs.rates.objective if inputs.rates else None
    if objective is None or objective.proportion.rate is None:
        return None
    return (_objective_label(inputs), pct(objective.proportion.rate, 2))
