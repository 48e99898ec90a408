"""The funnel queries, one definition each: transitions, milestones, P(purchase|click).

Each definition is a function of a `Context` (plan, dialect, window) returning a `Query`; the
states, their events, the rule states (S10 Retained, S11 Churned) and the milestones all come from
the plan. Rule states are judged only for persons observed long enough: a person who purchased
10 days before `as_of` cannot yet show 30-day retention, so they are left out of S10's
denominator (and so of its numerator).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compiler.funnel.builder import Context, NotApplicable, Query, union_all
from compiler.funnel.dialects import quote
from compiler.funnel.fragments import CTE, base, chain, event_states, step, within_window
from compiler.plan.model import FunnelState, StateRule

# PRD §6: P(purchase|click) = P(CTA|land) x P(signup|CTA) x P(login|signup) x P(aha|login)
# x P(purchase|aha). We add P(land|click) so the product telescopes exactly to S9/S0.
PURCHASE_DECOMPOSITION = ("S0", "S1", "S2", "S3", "S4", "S8", "S9")


def _in_list(events: tuple[str, ...]) -> str:
    return "(" + ", ".join(quote(e) for e in dict.fromkeys(events)) + ")"


def rate_rows(
    ctx: Context,
    source: str,
    reached: list[tuple[str, str]],
    rows: Sequence[tuple[str, ...]],
    label_columns: tuple[str, ...],
) -> tuple[list[CTE], str]:
    """CTEs and the final SELECT for rows (labels..., numerator state, denominator state).

    `reached` lists (state label, condition on `s`, one person row of `source`, and `b.as_of`).
    Counts are taken in one pass into one row (`totals`), and spread over the rows by CASE, so
    the person table is read once. A numerator's condition implies its denominator's.
    """
    d = ctx.dialect
    columns = {label: f"n_{label.lower()}" for label, _ in reached}
    totals = (
        "SELECT\n    "
        + ",\n    ".join(f"{d.count_if(cond)} AS {columns[label]}" for label, cond in reached)
        + f"\nFROM {source} AS s\nCROSS JOIN bounds AS b"
    )
    pairs = union_all(
        [
            "SELECT "
            + ", ".join(
                [f"{i + 1} AS step"]
                + [f"{quote(v)} AS {c}" for v, c in zip(row[:-2], label_columns, strict=True)]
                + [f"{quote(row[-2])} AS num_state", f"{quote(row[-1])} AS den_state"]
            )
            for i, row in enumerate(rows)
        ]
    )

    def pick(column: str) -> str:
        whens = " ".join(f"WHEN {quote(label)} THEN t.{col}" for label, col in columns.items())
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


def _population_state(ctx: Context, state: FunnelState, rule: StateRule) -> FunnelState:
    """The state a rule is judged after: `after`, else the last state marked by one of its events."""
    if rule.after:
        found = ctx.plan.state(rule.after)
        if found is None:
            raise ValueError(f"{state.id}'s rule refers to unknown state {rule.after}")
        return found
    marked = [s for s in event_states(ctx) if s.event in rule.events]
    return marked[-1] if marked else event_states(ctx)[0]


@dataclass(frozen=True)
class RuleState:
    """A rule state as per-person aggregates plus the conditions that count it."""

    state: FunnelState
    population: FunnelState
    aggregates: list[tuple[str, str]]  # (column, aggregate over e joined to s)
    observed: str  # condition: the population person was seen for the rule's full span
    reached: str  # condition: reached the state (implies observed)
    events: tuple[str, ...]


def rule_state(ctx: Context, state: FunnelState) -> RuleState:
    rule = state.rule
    assert rule is not None
    pop = _population_state(ctx, state, rule)
    k, p, d = state.index, pop.index, ctx.dialect
    span = d.days(rule.days)
    observed = f"s.t{p} <= b.as_of - {span}"
    if rule.kind == "active_within":
        hit = f"e.event IN {_in_list(rule.events)} AND e.ts > s.t{p} AND e.ts <= s.t{p} + {span}"
        aggs = [(f"s{k}_hits", d.count_if(hit))]
        return RuleState(state, pop, aggs, observed, f"{observed} AND s.s{k}_hits > 0", rule.events)
    if rule.kind != "inactive_for":
        raise ValueError(f"{state.id}: unknown rule kind {rule.kind}")
    active = rule.events + (pop.event or "",)
    aggs = [
        (f"s{k}_last_at", d.max_if("e.ts", f"e.event IN {_in_list(active)} AND e.ts >= s.t{p}"))
    ]
    gone = f"s.s{k}_last_at <= b.as_of - {span}"
    if rule.or_events:
        exit_cond = f"e.event IN {_in_list(rule.or_events)} AND e.ts >= s.t{p}"
        aggs.append((f"s{k}_exits", d.count_if(exit_cond)))
        gone = f"({gone} OR s.s{k}_exits > 0)"
    return RuleState(state, pop, aggs, observed, f"{observed} AND {gone}", active + rule.or_events)


def _reached(state: FunnelState) -> str:
    return "s.person IS NOT NULL" if state.index == 0 else f"s.t{state.index} IS NOT NULL"


def transition_rates(ctx: Context) -> Query:
    """S1|S0 .. S9|S8 along the chain, then each rule state against its observed population."""
    states = event_states(ctx)
    rules = [rule_state(ctx, s) for s in ctx.plan.states[len(states) :] if s.rule is not None]
    extra = tuple(e for r in rules for e in r.events)
    ctes = base(ctx) + chain(ctx)
    source = f"f{states[-1].index}"
    if rules:
        carry = ["person"] + [f"t{s.index}" for s in states]
        aggs = [a for r in rules for a in r.aggregates]
        all_events = tuple(s.event or "" for s in states) + extra
        ctes.append(step("fr", source, carry, aggs, all_events))
        source = "fr"
    reached = [(s.id, _reached(s)) for s in states]
    rows = [(f"{b.id}|{a.id}", b.id, a.id) for a, b in zip(states, states[1:], strict=False)]
    for r in rules:
        sid = r.state.id
        reached += [(f"{sid}_base", r.observed), (sid, r.reached)]
        rows.append((f"{sid}|{r.population.id}", sid, f"{sid}_base"))
    tail, body = rate_rows(ctx, source, reached, rows, ("transition",))
    return Query(
        "transition_rates",
        "every state-machine transition P(S_k | S_(k-1)), then retention (S10) and churn (S11) "
        "among persons observed for the rule's full span before as_of.",
        ("transition", "numerator", "denominator", "rate"),
        tuple(ctes + tail),
        body,
    )


def milestones(ctx: Context) -> Query:
    """The north-star milestones: share of persons who clicked (S0) who reach each, after t_0."""
    if not ctx.plan.milestones or not event_states(ctx):
        raise NotApplicable("milestones need milestones and an S0 state in the plan")
    first = event_states(ctx)[0]
    aggs = [
        (
            f"m_{name}",
            ctx.dialect.min_if(
                "e.ts",
                f"e.event = {quote(m.event)} AND e.ts >= s.t0" + within_window(ctx, "e.ts", "s.t0"),
            ),
        )
        for name, m in ctx.plan.milestones.items()
    ]
    events = (first.event or "",) + tuple(m.event for m in ctx.plan.milestones.values())
    ctes = base(ctx) + chain(ctx)[:1] + [step("fm", "f0", ["person", "t0"], aggs, events)]
    reached = [("S0", "s.person IS NOT NULL")]
    reached += [(name, f"s.m_{name} IS NOT NULL") for name in ctx.plan.milestones]
    rows = [(name, name, "S0") for name in ctx.plan.milestones]
    tail, body = rate_rows(ctx, "fm", reached, rows, ("milestone",))
    return Query(
        "milestones",
        "the four north-star milestones (PRD §3): persons who clicked an ad (S0) and then fired "
        "the milestone's event, over persons who clicked.",
        ("milestone", "numerator", "denominator", "rate"),
        tuple(ctes + tail),
        body,
    )


def purchase_per_click(ctx: Context) -> Query:
    """P(purchase|click) = S9/S0 and its PRD §6 decomposition; the factors multiply to it."""
    by_id = {s.id: s for s in event_states(ctx)}
    missing = [s for s in PURCHASE_DECOMPOSITION if s not in by_id]
    if missing:
        raise NotApplicable(f"P(purchase|click) needs states {', '.join(missing)} marked by events")
    ctes = base(ctx) + chain(ctx)
    chosen = [by_id[s] for s in PURCHASE_DECOMPOSITION]
    first, last = chosen[0], chosen[-1]
    rows = [(f"P({last.name}|{first.name})", f"{last.id}|{first.id}", last.id, first.id)]
    rows += [
        (f"P({b.name}|{a.name})", f"{b.id}|{a.id}", b.id, a.id)
        for a, b in zip(chosen, chosen[1:], strict=False)
    ]
    source = f"f{event_states(ctx)[-1].index}"
    reached = [(s.id, _reached(s)) for s in chosen]
    tail, body = rate_rows(ctx, source, reached, rows, ("factor", "transition"))
    return Query(
        "purchase_per_click",
        "P(purchase|click) = persons reaching S9 over persons reaching S0 (first row), then the "
        "PRD §6 factors (with P(land|click) added) whose product equals it exactly.",
        ("factor", "transition", "numerator", "denominator", "rate"),
        tuple(ctes + tail),
        body,
    )
