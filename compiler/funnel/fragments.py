"""CTEs every funnel query shares: persons, events per person, "now", and the state chain.

- `persons` (raw exports only): distinct_id -> person. Links come from `$identify`
  (`properties.$anon_distinct_id` -> `distinct_id`) and `$create_alias` (`properties.alias` ->
  `distinct_id`); a link is followed up to two hops (an anonymous id identified into a user who
  was later aliased). ClickHouse has no recursive CTE, so longer chains are not followed.
- `ev`: one row per event with `person`, `event`, `ts` (UTC) and the properties a query needs
  as `p_<name>` (text) and `n_<name>` (number) columns. `person` is `person_id` when it is set,
  else the stitched person.
- `bounds`: `as_of`, the moment churn and retention look back from: the last event in an
  export, `now()` in PostHog.
- `f0` ... `fN`: one row per person who reached the first chain state with `t0` .. `tN` (NULL:
  not reached), per DEFINITION; k is the state's position in the plan's chain. Each step is one pass over the person's events, referenced once, so engines that
  inline CTEs (ClickHouse) stay linear.
"""

from __future__ import annotations

import re

from compiler.funnel.builder import Context, NotApplicable
from compiler.funnel.dialects import Dialect, quote
from compiler.plan.model import FunnelState

CTE = tuple[str, str]
Scalar = str | int | float | bool


def text_column(prop: str) -> str:
    """The `ev` column holding property `prop` as text."""
    return "p_" + re.sub(r"[^A-Za-z0-9_]", "_", prop)


def number_column(prop: str) -> str:
    """The `ev` column holding property `prop` as a number."""
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", prop)


def _numeric(value: Scalar) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def literal(value: str, d: Dialect | None) -> str:
    """`value` as a string literal of `d` (None: DuckDB's, for DuckDB-only SQL)."""
    return d.literal(value) if d is not None else quote(value)


def _literal(value: Scalar, d: Dialect | None) -> str:
    if isinstance(value, bool):
        return literal("true" if value else "false", d)
    return literal(str(value), d)


def value_test(
    prefix: str, prop: str, test: str, values: tuple[Scalar, ...], d: Dialect | None = None
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(condition on `<prefix>` ev columns, text properties, numeric properties it reads).

    `test` is above / below (one number) or equals (any of `values`): numbers are compared as
    numbers, anything else as text (JSON true/false as 'true'/'false'). `d`: the dialect the
    SQL is for (None: DuckDB only)."""
    if test in ("above", "below"):
        op = ">" if test == "above" else "<"
        return f"{prefix}{number_column(prop)} {op} {float(values[0])!r}", (), (prop,)
    if values and all(_numeric(v) for v in values):
        listed = ", ".join(repr(float(v)) for v in values)
        return f"{prefix}{number_column(prop)} IN ({listed})", (), (prop,)
    listed = ", ".join(_literal(v, d) for v in values)
    return f"{prefix}{text_column(prop)} IN ({listed})", (prop,), ()


def in_list(events: tuple[str, ...], d: Dialect | None = None) -> str:
    """`(e1, e2, ...)` as literals of `d` (None: DuckDB only)."""
    return "(" + ", ".join(literal(e, d) for e in dict.fromkeys(events)) + ")"


def base(ctx: Context, props: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> list[CTE]:
    """`persons` (when the dialect stitches), `ev` and `bounds`; `props` as text and `numbers`
    as floats become `p_<name>` columns of `ev`."""
    d = ctx.dialect

    def columns(source: str) -> str:
        text = [
            f",\n    {d.prop_text(p, source)} AS {text_column(p)}" for p in dict.fromkeys(props)
        ]
        nums = [
            f",\n    {d.prop_number(p, source)} AS {number_column(p)}"
            for p in dict.fromkeys(numbers)
        ]
        return "".join(text + nums)

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
    """The plan's chain: the states marked by one event, in funnel order."""
    return list(ctx.plan.chain)


def step(
    name: str,
    source: str,
    carry: list[str],
    new: list[tuple[str, str]],
    events: tuple[str, ...],
    d: Dialect | None = None,
) -> CTE:
    """One pass over each person's events: carry `source`'s columns, add aggregates `new`.

    Every person in `source` stays: `events` must include an event each of them has (the first chain state's).
    Each CTE is referenced once downstream, so engines that inline CTEs (ClickHouse) stay linear.
    """
    cols = ",\n    ".join(
        [f"s.{c} AS {c}" for c in carry] + [f"{expr} AS {alias}" for alias, expr in new]
    )
    in_list = ", ".join(literal(e, d) for e in dict.fromkeys(events))
    group = ", ".join(f"s.{c}" for c in carry)
    return (
        name,
        f"SELECT\n    {cols}\nFROM {source} AS s\nINNER JOIN ev AS e ON e.person = s.person\n"
        f"WHERE e.event IN ({in_list})\nGROUP BY {group}",
    )


def chain(ctx: Context) -> list[CTE]:
    """`f0` .. `fN`: one row per person who reached the first chain state, with t0 .. tN (NULL
    when not reached).

    t_k = the earliest event of chain state k at or after t_(k-1) (and within the window from t0).
    """
    states = event_states(ctx)
    if not states:
        raise NotApplicable("the plan's funnel has no states marked by an event")
    ctes: list[CTE] = [
        (
            "f0",
            f"SELECT person, min(ts) AS t0\nFROM ev\n"
            f"WHERE event = {ctx.dialect.literal(states[0].event or '')} AND person IS NOT NULL\n"
            "GROUP BY person",
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
                "LEFT JOIN ev AS e ON e.person = s.person "
                f"AND e.event = {ctx.dialect.literal(state.event or '')}\n"
                "GROUP BY s.person",
            )
        )
        carry = [*carry, f"t{k}"]
    return ctes
