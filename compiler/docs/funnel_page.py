"""The funnel page's view model: states and transitions, forecast, churn, revenue and hazard.

Everything comes from the plan's own declarations (`states`, `transitions`, `forecast`, `churn`,
`revenue`, `hazard`); a block the plan does not declare keeps one line saying so, and nothing
here knows any company's event or state names.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.docs.views import event_href, property_href
from compiler.plan.model import FunnelState, Plan
from compiler.plan.model_analytics import Covariate, PurchaseClass


@dataclass(frozen=True)
class Cell:
    text: str
    href: str = ""
    code: bool = False  # an event or property name
    prefix: str = ""  # plain text before it
    note: str = ""  # muted code after it (a state's id)
    markdown: bool = False  # a plan description: its inline Markdown renders


@dataclass(frozen=True)
class Block:
    """One section of the page: a description, facts, an optional table, or why it is absent."""

    id: str
    title: str
    description: str = ""
    facts: tuple[tuple[str, str], ...] = ()
    head: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    row_ids: tuple[str, ...] = ()  # an anchor per row, "" for none
    missing: str = ""


@dataclass(frozen=True)
class FunnelPage:
    blocks: tuple[Block, ...]


def _event(name: str, root: str) -> Cell:
    return Cell(name, event_href(root, name), True)


def _prop(name: str | None, root: str) -> Cell:
    return Cell(name, property_href(root, name), True) if name else Cell("—")


def _name(plan: Plan, state_id: str | None) -> str:
    state = plan.state(state_id) if state_id else None
    return state.name if state else (state_id or "—")


def _pct(rate: float) -> str:
    return f"{rate * 100:.4g}%"


def _transition_into(plan: Plan, state: FunnelState) -> str:
    into = [t for t in plan.transitions if t.to_state == state.id]
    return "; ".join(
        (_pct(t.rate) if t.rate is not None else "no default (learned by fit)")
        + f" from {_name(plan, t.from_state)}"
        + (f" ({t.alias})" if t.alias else "")
        for t in into
    )


def states_block(plan: Plan, root: str) -> Block:
    if not plan.states:
        return Block("states", "States", missing="The plan declares no funnel states.")
    rows = []
    for state in plan.states:
        if state.event:
            reached = Cell(state.event, event_href(root, state.event), True, "first ")
        else:
            reached = Cell(state.rule.description if state.rule else "", markdown=True)
        into = _transition_into(plan, state) or "—"
        rows.append((Cell(state.name, note=state.id), reached, Cell(into)))
    return Block(
        "states",
        "States",
        "A person reaches a chain state at the first time they send its event after reaching the "
        "previous state; rule states are reached by the rule shown.",
        head=("State", "Reached by", "Default rate into it"),
        rows=tuple(rows),
        row_ids=tuple(f"state-{s.id}" for s in plan.states),
    )


def forecast_block(plan: Plan) -> Block:
    forecast = plan.forecast
    if forecast is None:
        return Block(
            "forecast",
            "Forecast",
            missing="The plan declares no forecast section (entry rate, outcomes, objective).",
        )
    facts: list[tuple[str, str]] = []
    if forecast.entry is not None:
        facts.append(
            (f"Entry rate ({forecast.entry.title})", f"{_pct(forecast.entry.rate)} (assumption)")
        )
    else:
        facts.append(
            (
                "Entry",
                f"the cohort enters {_name(plan, plan.chain[0].id if plan.chain else None)} directly",
            )
        )
    objective = forecast.outcome(forecast.objective)
    facts.append(("Levers ranked by", objective.title if objective else forecast.objective))
    meaning = any(o.description for o in forecast.outcomes)
    rows = tuple(
        (Cell(o.title, note=o.name), Cell(_name(plan, o.state)))
        + ((Cell(o.description, markdown=True),) if meaning else ())
        for o in forecast.outcomes
    )
    description = forecast.description
    if forecast.entry is not None and forecast.entry.description:
        description = f"{description} {forecast.entry.description}".strip()
    return Block(
        "forecast",
        "Forecast",
        description,
        tuple(facts),
        ("Outcome", "People who reach") + (("Meaning",) if meaning else ()),
        rows,
    )


def _purchase_class(purchase: PurchaseClass) -> str:
    if purchase.property and purchase.values:
        values = ", ".join(str(v) for v in purchase.values)
        return f"{purchase.event} with {purchase.property} in ({values})"
    return purchase.event


def churn_block(plan: Plan) -> Block:
    churn = plan.churn
    if churn is None:
        return Block("churn", "Churn", missing="The plan declares no churn definition.")
    facts = [
        ("Active means", ", ".join(churn.activity_events) or "—"),
        ("Inactive after", f"{churn.inactivity_days} days"),
        ("One-off churn windows", ", ".join(f"{d} days" for d in churn.windows) or "—"),
    ]
    if churn.cancel_events:
        facts.append(("Canceled by", ", ".join(churn.cancel_events)))
    if churn.subscriptions is not None:
        subs = churn.subscriptions
        facts.append(("Subscriptions", f"{subs.started} → {subs.canceled}, keyed by {subs.key}"))
    if churn.one_off_purchases:
        facts.append(
            ("One-off purchases", "; ".join(map(_purchase_class, churn.one_off_purchases)))
        )
    if churn.subscription_purchases:
        facts.append(
            (
                "Subscription purchases",
                "; ".join(map(_purchase_class, churn.subscription_purchases)),
            )
        )
    return Block("churn", "Churn", churn.description, tuple(facts))


def revenue_block(plan: Plan, root: str) -> Block:
    revenue = plan.revenue
    if revenue is None:
        return Block("revenue", "Revenue", missing="The plan declares no revenue sources.")
    rows = tuple(
        (Cell(kind), _event(s.event, root), _prop(s.value, root), _prop(s.currency, root))
        for kind, sources in (("revenue", revenue.events), ("refund", revenue.refunds))
        for s in sources
    )
    return Block(
        "revenue",
        "Revenue",
        revenue.description + " Gross is the sum of the revenue events' amounts; net subtracts "
        "the refunds; each currency is summed on its own.",
        head=("Kind", "Event", "Amount", "Currency"),
        rows=rows,
    )


def _condition(c: Covariate) -> str:
    if c.property and c.test:
        return f"{c.event} with {c.property} {c.test} {c.value}"
    return c.event


def hazard_block(plan: Plan) -> Block:
    hazard = plan.hazard
    if hazard is None:
        return Block("hazard", "Churn hazard", missing="The plan declares no churn hazard model.")
    at_risk, anchor = _name(plan, hazard.at_risk), _name(plan, hazard.anchor)
    facts = (
        ("Models", _name(plan, hazard.state)),
        ("People at risk", f"reached {at_risk}"),
        ("Window starts", f"first {anchor} (else {at_risk})" if hazard.anchor else at_risk),
        ("Window", f"{hazard.window_days} days"),
        ("Base probability", _pct(hazard.base)),
        ("Capped at", _pct(hazard.max)),
    )
    rows = tuple(
        (
            Cell(c.name, code=True),
            Cell(_condition(c)),
            Cell(f"+{_pct(c.extra)}"),
            Cell(_pct(c.share)),
        )
        for c in hazard.covariates.values()
    )
    return Block(
        "hazard",
        "Churn hazard",
        hazard.description + " P(churn) = min(max(base + the extras of the facts that hold, 0), "
        "cap); a fact holds when the person has the event at or before the window starts. The "
        "shares are plan defaults until fit measures them.",
        facts,
        ("Fact", "Holds when", "Extra", "Default share") if rows else (),
        rows,
    )


def funnel_page(plan: Plan, root: str = "") -> FunnelPage:
    return FunnelPage(
        (
            states_block(plan, root),
            forecast_block(plan),
            churn_block(plan),
            revenue_block(plan, root),
            hazard_block(plan),
        )
    )
