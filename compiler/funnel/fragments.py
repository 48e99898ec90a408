"""CTEs every funnel query shares: persons, events per person, "now", and the state chain.

- `persons` (raw exports only): distinct_id -> person. Links come from `$identify`
  (`properties.$anon_distinct_id` -> `distinct_id`) and `$create_alias` (`properties.alias` ->
  `distinct_id`); a link is followed up to two hops (an anonymous id identified into a user who
  was later aliased). ClickHouse has no recursive CTE, so longer chains are not followed.
- `ev`: one row per event with `person`, `event`, `ts` (UTC) and the properties a query needs
  as `p_<name>` columns. `person` is `person_id` when it is set, else the stitched person.
- `bounds`: `as_of`, the moment churn and retention look back from: the last event in an
  export, `now()` in PostHog.
- `f0` ... `f9`: one row per person who reached S0 with `t0` .. `t9` (NULL: not reached), per
  DEFINITION. Each step is one pass over the person's events, referenced once, so engines that
  inline CTEs (ClickHouse) stay linear.
"""

from __future__ import annotations

from compiler.funnel.builder import Context, NotApplicable
from compiler.funnel.dialects import quote
from compiler.plan.model import FunnelState

CTE = tuple[str, str]


def base(ctx: Context, props: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> list[CTE]:
    """`persons` (when the dialect stitches), `ev` and `bounds`; `props` as text and `numbers`
    as floats become `p_<name>` columns of `ev`."""
    d = ctx.dialect

    def columns(source: str) -> str:
        text = [f",\n    {d.prop(p, source)} AS p_{p}" for p in props]
        return "".join(text + [f",\n    {d.prop_number(p, source)} AS p_{p}" for p in numbers])

    bounds = ("bounds", f"SELECT {d.as_of} AS as_of\nFROM events")
    if not d.stitches_identity:
        ev = (
            "SELECT\n    person_id AS person,\n    event,\n    timestamp AS ts"
            f"{columns('properties')}\nFROM events"
        )
        return [("ev", ev), ("bounds", f"SELECT {d.as_of} AS as_of")]
    links = f"""
        SELECT {d.prop('$anon_distinct_id')} AS from_id, distinct_id AS to_id
        FROM events
        WHERE event = '$identify'
        UNION ALL
        SELECT {d.prop('alias')} AS from_id, distinct_id AS to_id
        FROM events
        WHERE event = '$create_alias'
    """
    hops = """
        SELECT from_id, min(to_id) AS hop_to
        FROM links
        WHERE from_id IS NOT NULL AND to_id IS NOT NULL AND from_id <> to_id
        GROUP BY from_id
    """
    persons = """
        SELECT ids.distinct_id AS distinct_id, coalesce(h2.hop_to, h1.hop_to, ids.distinct_id) AS person
        FROM (SELECT DISTINCT distinct_id FROM events) AS ids
        LEFT JOIN hops AS h1 ON h1.from_id = ids.distinct_id
        LEFT JOIN hops AS h2 ON h2.from_id = h1.hop_to
    """
    ev = (
        "SELECT\n"
        f"    coalesce({d.nullif('e.person_id', chr(39) * 2)}, m.person) AS person,\n"
        "    e.event AS event,\n"
        f"    {d.timestamp('e.timestamp')} AS ts{columns('e.properties')}\n"
        "FROM events AS e\n"
        "LEFT JOIN persons AS m ON m.distinct_id = e.distinct_id"
    )
    return [("links", links), ("hops", hops), ("persons", persons), ("ev", ev), bounds]


def within_window(ctx: Context, ts: str, t0: str) -> str:
    if ctx.window_days is None:
        return ""
    return f" AND {ts} <= {t0} + {ctx.dialect.days(ctx.window_days)}"


def event_states(ctx: Context) -> list[FunnelState]:
    """S0, S1, ...: the states marked by one event, in order, up to the first rule state."""
    states = []
    for state in ctx.plan.states:
        if state.event is None:
            break
        states.append(state)
    return states


def step(
    name: str, source: str, carry: list[str], new: list[tuple[str, str]], events: tuple[str, ...]
) -> CTE:
    """One pass over each person's events: carry `source`'s columns, add aggregates `new`.

    Every person in `source` stays: `events` must include an event each of them has (S0's).
    Each CTE is referenced once downstream, so engines that inline CTEs (ClickHouse) stay linear.
    """
    cols = ",\n    ".join(
        [f"s.{c} AS {c}" for c in carry] + [f"{expr} AS {alias}" for alias, expr in new]
    )
    in_list = ", ".join(quote(e) for e in dict.fromkeys(events))
    group = ", ".join(f"s.{c}" for c in carry)
    return (
        name,
        f"SELECT\n    {cols}\nFROM {source} AS s\nINNER JOIN ev AS e ON e.person = s.person\n"
        f"WHERE e.event IN ({in_list})\nGROUP BY {group}",
    )


def chain(ctx: Context) -> list[CTE]:
    """`f0` .. `fN`: one row per person who reached S0, with t0 .. tN (NULL when not reached).

    t_k = the earliest S_k event at or after t_(k-1) (and within the window from t0).
    """
    states = event_states(ctx)
    if not states:
        raise NotApplicable("the funnel queries need states marked by events (S0, S1, ...)")
    ctes: list[CTE] = [
        (
            "f0",
            f"SELECT person, min(ts) AS t0\nFROM ev\n"
            f"WHERE event = {quote(states[0].event or '')} AND person IS NOT NULL\nGROUP BY person",
        )
    ]
    carry = ["t0"]
    for prev, state in zip(states, states[1:], strict=False):
        p, k = prev.index, state.index
        cond = f"e.ts >= s.t{p}" + within_window(ctx, "e.ts", "s.t0")
        # Only this state's events are joined (LEFT, so every person stays); the carried times
        # are constant per person, so min() just passes them on.
        cols = ",\n    ".join(
            ["s.person AS person"]
            + [f"min(s.{c}) AS {c}" for c in carry]
            + [f"{ctx.dialect.min_if('e.ts', cond)} AS t{k}"]
        )
        ctes.append(
            (
                f"f{k}",
                f"SELECT\n    {cols}\nFROM f{p} AS s\n"
                f"LEFT JOIN ev AS e ON e.person = s.person AND e.event = {quote(state.event or '')}\n"
                "GROUP BY s.person",
            )
        )
        carry = [*carry, f"t{k}"]
    return ctes
