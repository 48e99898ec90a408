"""The funnel queries, one definition each: transitions, milestones, the objective per entrant.

Each definition is a function of a `Context` (plan, dialect, window) returning a `Query`; the
chain, its events, the rule states and the milestones all come from the plan. A rule state is
judged per person from their own anchor, the time they reached the rule's population state P:
only persons observed for the rule's whole span (t_P + days <= as_of) count, so a person who
reached P 10 days before `as_of` is left out of a 30-day rule's denominator (and numerator).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compiler.funnel.builder import Context, NotApplicable, Query, union_all
from compiler.funnel.fragments import CTE, base, chain, event_states, in_list, step, within_window
from compiler.plan.model import FunnelState, Plan, StateRule


def rate_rows(
    ctx: Context,
    source: str,
    reached: list[tuple[str, str]],
    rows: Sequence[tuple[str, ...]],
    label_columns: tuple[str, ...],
) -> tuple[list[CTE], str]:
    """CTEs and the final SELECT for rows (labels..., numerator key, denominator key).

    `reached` lists (key, condition on `s`, one person row of `source`, and `b.as_of`). Counts
    are taken in one pass into one row (`totals`), and spread over the rows by CASE, so the
    person table is read once. A numerator's condition implies its denominator's.
    """
    d = ctx.dialect
    columns = {key: f"n_{i}" for i, (key, _) in enumerate(reached)}
    totals = (
        "SELECT\n    "
        + ",\n    ".join(f"{d.count_if(cond)} AS {columns[key]}" for key, cond in reached)
        + f"\nFROM {source} AS s\nCROSS JOIN bounds AS b"
    )
    pairs = union_all(
        [
            "SELECT "
            + ", ".join(
                [f"{i + 1} AS step"]
                + [f"{d.literal(v)} AS {c}" for v, c in zip(row[:-2], label_columns, strict=True)]
                + [f"{d.literal(row[-2])} AS num_state", f"{d.literal(row[-1])} AS den_state"]
            )
            for i, row in enumerate(rows)
        ]
    )

    def pick(column: str) -> str:
        whens = " ".join(f"WHEN {d.literal(key)} THEN t.{col}" for key, col in columns.items())
        return f"CASE p.{column} {whens} END"

    labels = "".join(f"    p.{c} AS {c},\n" for c in label_columns)
    body = (
        f"SELECT\n{labels}"
        f"    {pick('num_state')} AS numerator,\n"
        f"    {pick('den_state')} AS denominator,\n"
        f"    {pick('num_state')} / {d.nullif(pick('den_state'), '0')} AS rate\n"
        "FROM pairs AS p\nCROSS JOIN totals AS t\nORDER BY p.step"
    )
    return [("totals", totals), ("pairs", pairs)], body


def population_state(plan: Plan, state: FunnelState) -> FunnelState | None:
    """The chain state a rule state is judged after: its rule's `after`, else the last chain
    state marked by one of the rule's events, else the first chain state."""
    rule = state.rule
    if rule is None or not plan.chain:
        return None
    if rule.after:
        found = plan.state(rule.after)
        return found if found is not None and found.event is not None else None
    marked = [s for s in plan.chain if s.event in rule.events]
    return marked[-1] if marked else plan.chain[0]


@dataclass(frozen=True)
class RuleState:
    """A rule state as per-person aggregates plus the conditions that count it."""

    state: FunnelState
    population: FunnelState
    aggregates: list[tuple[str, str]]  # (column, aggregate over e joined to s)
    observed: str  # condition: the person was seen for the rule's whole span after t_P
    reached: str  # condition: reached the state (implies observed)
    events: tuple[str, ...]


def rule_state(ctx: Context, state: FunnelState, rule: StateRule) -> RuleState | None:
    pop = population_state(ctx.plan, state)
    if pop is None:
        return None
    k, p, d = state.index, pop.index, ctx.dialect
    span = d.days(rule.days)
    observed = f"s.t{p} IS NOT NULL AND s.t{p} <= b.as_of - {span}"
    window = f"e.ts > s.t{p} AND e.ts <= s.t{p} + {span}"
    if rule.kind == "active_within":
        aggs = [(f"r{k}_hits", d.count_if(f"e.event IN {in_list(rule.events, d)} AND {window}"))]
        return RuleState(state, pop, aggs, observed, f"{observed} AND s.r{k}_hits > 0", rule.events)
    active = rule.events + (pop.event or "",)
    aggs = [(f"r{k}_hits", d.count_if(f"e.event IN {in_list(active, d)} AND {window}"))]
    gone = f"s.r{k}_hits = 0"
    if rule.or_events:
        aggs.append(
            (f"r{k}_exits", d.count_if(f"e.event IN {in_list(rule.or_events, d)} AND {window}"))
        )
        gone = f"(s.r{k}_hits = 0 OR s.r{k}_exits > 0)"
    return RuleState(state, pop, aggs, observed, f"{observed} AND {gone}", active + rule.or_events)


def _reached(state: FunnelState) -> str:
    return "s.person IS NOT NULL" if state.index == 0 else f"s.t{state.index} IS NOT NULL"


def transition_rates(ctx: Context) -> Query:
    """Each chain step P(S_k | S_(k-1)), then each rule state against its observed population."""
    states = event_states(ctx)
    ctes = base(ctx) + chain(ctx)
    rules = [
        r
        for s in ctx.plan.states
        if s.rule is not None and (r := rule_state(ctx, s, s.rule)) is not None
    ]
    source = f"f{states[-1].index}"
    if rules:
        carry = ["person"] + [f"t{s.index}" for s in states]
        aggs = [a for r in rules for a in r.aggregates]
        all_events = tuple(s.event or "" for s in states) + tuple(
            e for r in rules for e in r.events
        )
        ctes.append(step("fr", source, carry, aggs, all_events, ctx.dialect))
        source = "fr"
    reached = [(s.id, _reached(s)) for s in states]
    rows = [(f"{b.id}|{a.id}", b.id, a.id) for a, b in zip(states, states[1:], strict=False)]
    for r in rules:
        sid = r.state.id
        reached += [(f"{sid}|observed", r.observed), (f"{sid}|reached", r.reached)]
        rows.append((f"{sid}|{r.population.id}", f"{sid}|reached", f"{sid}|observed"))
    if not rows:
        raise NotApplicable("the funnel has one state and no rule states: there is no transition")
    tail, body = rate_rows(ctx, source, reached, rows, ("transition",))
    return Query(
        "transition_rates",
        "every chain transition P(S_k | S_(k-1)), then each rule state among persons observed "
        "for the rule's whole span after their own time in its population state.",
        ("transition", "numerator", "denominator", "rate"),
        tuple(ctes + tail),
        body,
    )


def milestones(ctx: Context) -> Query:
    """The milestones: share of persons who reached the first chain state who reach each."""
    if not ctx.plan.milestones:
        raise NotApplicable("the plan declares no milestones")
    if not ctx.plan.chain:
        raise NotApplicable("the plan's funnel has no states marked by an event")
    first = ctx.plan.chain[0]
    aggs = [
        (
            f"m_{i}",
            ctx.dialect.min_if(
                "e.ts",
                f"e.event = {ctx.dialect.literal(m.event)} AND e.ts >= s.t0"
                + within_window(ctx, "e.ts", "s.t0"),
            ),
        )
        for i, m in enumerate(ctx.plan.milestones.values())
    ]
    events = (first.event or "",) + tuple(m.event for m in ctx.plan.milestones.values())
    ctes = (
        base(ctx) + chain(ctx)[:1] + [step("fm", "f0", ["person", "t0"], aggs, events, ctx.dialect)]
    )
    reached = [("entered", "s.person IS NOT NULL")]
    reached += [(f"m:{name}", f"s.m_{i} IS NOT NULL") for i, name in enumerate(ctx.plan.milestones)]
    rows = [(name, f"m:{name}", "entered") for name in ctx.plan.milestones]
    tail, body = rate_rows(ctx, "fm", reached, rows, ("milestone",))
    return Query(
        "milestones",
        f"the milestones: persons who reached {first.id} ({first.name}) and then fired the "
        "milestone's event, over persons who reached it.",
        ("milestone", "numerator", "denominator", "rate"),
        tuple(ctes + tail),
        body,
    )


def objective_state(plan: Plan) -> FunnelState:
    """The chain state the objective rate ends at: the forecast objective's state, else the last
    chain state. NotApplicable when the objective is a rule state or the chain is one state."""
    if len(plan.chain) < 2:
        raise NotApplicable("the funnel's chain has fewer than two states")
    if plan.forecast is None:
        return plan.chain[-1]
    outcome = plan.forecast.outcome(plan.forecast.objective)
    state = plan.state(outcome.state) if outcome else None
    if state is None or state.event is None:
        raise NotApplicable(
            f"the forecast objective '{plan.forecast.objective}' is not a chain state, so it is "
            "not a product of chain steps"
        )
    if state.index == 0:
        raise NotApplicable("the forecast objective is the first chain state")
    return state


def objective_rate(ctx: Context) -> Query:
    """P(objective | first chain state), then the chain factors that multiply to it exactly."""
    target = objective_state(ctx.plan)
    chosen = event_states(ctx)[: target.index + 1]
    first = chosen[0]
    ctes = base(ctx) + chain(ctx)[: target.index + 1]
    rows = [(f"P({target.name}|{first.name})", f"{target.id}|{first.id}", target.id, first.id)]
    rows += [
        (f"P({b.name}|{a.name})", f"{b.id}|{a.id}", b.id, a.id)
        for a, b in zip(chosen, chosen[1:], strict=False)
    ]
    reached = [(s.id, _reached(s)) for s in chosen]
    tail, body = rate_rows(ctx, f"f{target.index}", reached, rows, ("factor", "transition"))
    return Query(
        "objective_rate",
        f"P({target.name}|{first.name}) = persons reaching {target.id} over persons reaching "
        f"{first.id} (first row), then each chain step's factor; their product equals it exactly.",
        ("factor", "transition", "numerator", "denominator", "rate"),
        tuple(ctes + tail),
        body,
    )
