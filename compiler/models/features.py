"""Each model's feature + label SQL, one definition rendered per dialect (DuckDB, ClickHouse,
HogQL) with the funnel's builder and dialect layer, persons keyed exactly as `rates` and the
audit key them (compiler/funnel/fragments.py `base`: person_id, else the stitched person).

One row per person and snapshot whose time has come (snapshot_at <= as_of):
  person, snapshot_at, <one column per feature, in the model's order>, label, label_observed
- snapshot_at: the person's first `event` + `days` days (kind after_first), or + 0, `days`,
  2 * `days`, ... (`count` of them; kind every: the periods of a hazard model).
- a feature reads the person's events at or before snapshot_at (in the `days` before it when
  windowed); kinds are listed in compiler/plan/model_models.py FEATURE_KINDS.
- label reads the events in (snapshot_at, snapshot_at + label days]; label_observed is 1 when
  that whole window lies before as_of (the last event in an export, now() in PostHog).
- a revenue label is net revenue in ONE currency (CURRENCY_RULE; `label_currency` CTE): the
  currency most of the plan's revenue events with a value carry, as `clv` and `rates` read it
  (coalesce(currency, '')); revenue and refunds in any other currency are left out.
"""

from __future__ import annotations

import re
import textwrap

from compiler.funnel import dialects
from compiler.funnel.builder import Context, Query, union_all
from compiler.funnel.dialects import Dialect
from compiler.funnel.fragments import CTE, base, in_list, number_column, text_column, value_test
from compiler.plan.model import Plan
from compiler.plan.model_analytics import RevenueSource
from compiler.plan.model_models import Feature, Label, ModelSpec, Where

NUMERIC = ("integer", "number")
DEFINITION = (
    "One row per person and snapshot whose time has come (snapshot_at <= as_of). A feature reads "
    "the person's events at or before snapshot_at (in the `days` before it when windowed); the "
    "label reads their events in (snapshot_at, snapshot_at + the label's days]; label_observed "
    "is 1 when that whole window lies before as_of (the last event in an export; now() in "
    "PostHog). Persons are PostHog's person_id when the export has it; otherwise they are "
    "stitched from $identify and $create_alias, as in the funnel queries."
)
CURRENCY_RULE = (
    "revenue is net of refunds in one currency, never summed across currencies: the one most "
    "revenue events with a value carry (ties: the first by name; '' for events without a "
    "currency), so other currencies count 0."
)
KEYS = ("person", "snapshot_at")
TAIL = ("label", "label_observed")


def column(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class _Reads:
    """The properties a query reads, as text (`p_`) or number (`n_`) columns of `ev`."""

    def __init__(self, plan: Plan, d: Dialect) -> None:
        self.plan, self.d, self.texts, self.numbers = plan, d, list[str](), list[str]()

    def numeric(self, prop: str) -> bool:
        p = self.plan.properties.get(prop)
        return p is not None and p.type in NUMERIC

    def value(self, prop: str) -> str:
        """The `e.` column holding `prop`: a number for numeric properties, else text."""
        if self.numeric(prop):
            self.numbers.append(prop)
            return f"e.{number_column(prop)}"
        self.texts.append(prop)
        return f"e.{text_column(prop)}"

    def where(self, where: Where | None) -> str:
        if where is None:
            return ""
        test, texts, numbers = value_test("e.", where.property, where.test, (where.value,), self.d)
        self.texts += texts
        self.numbers += numbers
        return f" AND {test}"


def _before(f: Feature, d: Dialect) -> str:
    window = f" AND e.ts > s.at - {d.days(f.days)}" if f.days else ""
    return f"e.ts <= s.at{window}"


def _aggregate(f: Feature, d: Dialect, reads: _Reads) -> str:
    """One feature as an aggregate over the person's events `e` joined to their snapshot `s`."""
    cond = (f"e.event = {d.literal(f.event)} AND " if f.event else "") + _before(f, d)
    cond += reads.where(f.where)
    if f.kind == "count":
        return d.count_if(cond)
    if f.kind == "time_between":
        first_a = d.min_if("e.ts", f"e.event = {d.literal(f.event or '')} AND e.ts <= s.at")
        first_b = d.min_if("e.ts", f"e.event = {d.literal(f.to_event or '')} AND e.ts <= s.at")
        return d.days_between(first_a, first_b)
    if f.kind in ("days_since_first", "days_since_last"):
        at = d.min_if("e.ts", cond) if f.kind == "days_since_first" else d.max_if("e.ts", cond)
        return d.days_between(at, "s.at")
    value = reads.value(f.property or "")
    if f.kind in ("first_value", "last_value"):
        return d.arg_at(value, "e.ts", f"{cond} AND {value} IS NOT NULL", f.kind == "last_value")
    if f.kind == "distinct_count":
        return d.distinct_if(value, cond)
    if f.kind == "sum":
        return d.sum_if(value, cond)
    if f.kind == "mean":
        return d.avg_if(value, cond)
    if f.kind == "max":
        return d.max_if(value, cond)
    raise ValueError(f"unknown feature kind {f.kind}")  # lint rejects these


def _label(label: Label, plan: Plan, d: Dialect, reads: _Reads) -> tuple[list[CTE], str]:
    """(aggregates, the label expression over them as `a.` columns)."""
    window = f"e.ts > s.at AND e.ts <= s.at + {d.days(label.days)}"
    if label.kind == "event_within":
        cond = f"e.event = {d.literal(label.event or '')} AND {window}{reads.where(label.where)}"
        return [("l_hits", d.count_if(cond))], "CASE WHEN a.l_hits > 0 THEN 1 ELSE 0 END"
    if label.kind == "churn":
        aggs = [("l_hits", d.count_if(f"e.event IN {in_list(label.events, d)} AND {window}"))]
        gone = "a.l_hits = 0"
        if label.cancel_events:
            cancels = in_list(label.cancel_events, d)
            aggs.append(("l_exits", d.count_if(f"e.event IN {cancels} AND {window}")))
            gone = "(a.l_hits = 0 OR a.l_exits > 0)"
        return aggs, f"CASE WHEN {gone} THEN 1 ELSE 0 END"
    revenue = plan.revenue
    assert revenue is not None  # lint: a revenue label needs the revenue section
    whens = [
        f"WHEN e.event = {d.literal(src.event)} AND {_currency(src, 'e.')} = s.currency "
        f"THEN {sign}e.{number_column(src.value)}"
        for sources, sign in ((revenue.events, ""), (revenue.refunds, "-"))
        for src in sources
    ]
    reads.numbers += [src.value for src in (*revenue.events, *revenue.refunds)]
    reads.texts += [src.currency for src in (*revenue.events, *revenue.refunds) if src.currency]
    money = f"CASE {' '.join(whens)} END"
    return [("l_net", d.sum_if(money, window))], "a.l_net"


def _currency(src: RevenueSource, prefix: str = "") -> str:
    """The currency of a revenue event as text: '' when its source names no currency property or
    the event lacks it (as `rates` and `clv` read it)."""
    return f"coalesce({prefix}{text_column(src.currency)}, '')" if src.currency else "''"


def currency_ctes(plan: Plan, currency: str | None, d: Dialect) -> list[CTE]:
    """`label_currency`: the one currency a revenue label counts (see CURRENCY_RULE)."""
    if currency is not None:
        return [("label_currency", f"SELECT {d.literal(currency)} AS currency")]
    assert plan.revenue is not None
    counts = union_all(
        [
            f"SELECT {_currency(src)} AS currency\nFROM ev\n"
            f"WHERE event = {d.literal(src.event)} AND {number_column(src.value)} >= 0"
            for src in plan.revenue.events
        ]
    )
    return [
        (
            "label_currencies",
            f"SELECT currency, count(*) AS n\nFROM (\n{textwrap.indent(counts, '    ')}\n) AS m\n"
            "GROUP BY currency",
        ),
        (
            "label_currency",
            "SELECT coalesce(min(c.currency), '') AS currency\nFROM label_currencies AS c\n"
            "CROSS JOIN (SELECT max(n) AS top FROM label_currencies) AS t\nWHERE c.n = t.top",
        ),
    ]


def _events(spec: ModelSpec, plan: Plan) -> tuple[str, ...] | None:
    """Every event the query reads, or None when a feature reads any event."""
    out: list[str] = []
    for f in spec.features:
        for part in f.parts or (f,):
            if part.event is None and part.kind in ("first_value", "last_value"):
                return None
            out += [e for e in (part.event, part.to_event) if e]
    lab = spec.label
    out += [lab.event] if lab.event else []
    out += [*lab.events, *lab.cancel_events]
    if lab.kind == "revenue" and plan.revenue is not None:
        out += [s.event for s in (*plan.revenue.events, *plan.revenue.refunds)]
    return tuple(dict.fromkeys(out))


def feature_query(
    plan: Plan, spec: ModelSpec, d: Dialect, currency: str | None = None, at: str | None = None
) -> Query:
    """The model's features and label per person snapshot, as one query in dialect `d`.

    `currency`: the one a revenue label counts (default: CURRENCY_RULE). `at`: a time (SQL in
    `d`) that replaces the model's snapshots: one snapshot there for every person in `ev`."""
    reads = _Reads(plan, d)
    aggs: list[tuple[str, str]] = []
    finals: list[str] = []
    for f in spec.features:
        if f.kind == "ratio":
            num, den = (f"r_{column(f.name)}_{i}" for i in (0, 1))
            aggs += [(num, _aggregate(f.parts[0], d, reads))]
            aggs += [(den, _aggregate(f.parts[1], d, reads))]
            finals.append(f"a.{num} / {d.nullif(f'a.{den}', '0')} AS {column(f.name)}")
        else:
            aggs.append((f"f_{column(f.name)}", _aggregate(f, d, reads)))
            finals.append(f"a.f_{column(f.name)} AS {column(f.name)}")
    label_aggs, label = _label(spec.label, plan, d, reads)
    aggs += label_aggs
    snap = spec.snapshot
    if at is None:
        anchor = (
            f"SELECT person, min(ts) AS t\nFROM ev\n"
            f"WHERE event = {d.literal(snap.event)} AND person IS NOT NULL\nGROUP BY person"
        )
        offsets: tuple[int, ...] = tuple(snap.offsets())
    else:
        anchor = f"SELECT DISTINCT person, {at} AS t\nFROM ev\nWHERE person IS NOT NULL"
        offsets = (0,)
    money = spec.label.kind == "revenue"
    if money:
        snapshot = union_all(
            [
                f"SELECT a.person AS person, a.t + {d.days(k)} AS at, c.currency AS currency\n"
                "FROM anchor AS a\nCROSS JOIN label_currency AS c"
                for k in offsets
            ]
        )
    else:
        snapshot = union_all([f"SELECT person, t + {d.days(k)} AS at FROM anchor" for k in offsets])
    events = _events(spec, plan)
    only = f" AND e.event IN {in_list(events, d)}" if events else ""
    columns = ",\n    ".join(
        ["s.person AS person", "s.at AS at"] + [f"{e} AS {n}" for n, e in aggs]
    )
    agg = (
        f"SELECT\n    {columns}\nFROM snap AS s\n"
        f"LEFT JOIN ev AS e ON e.person = s.person{only}\nGROUP BY s.person, s.at"
    )
    observed = f"CASE WHEN a.at + {d.days(spec.label.days)} <= b.as_of THEN 1 ELSE 0 END"
    body = (
        "SELECT\n    a.person AS person,\n    a.at AS snapshot_at,\n    "
        + ",\n    ".join([*finals, f"{label} AS label", f"{observed} AS label_observed"])
        + "\nFROM agg AS a\nCROSS JOIN bounds AS b\nWHERE a.at <= b.as_of\nORDER BY a.person, a.at"
    )
    ctx = Context(plan, d)
    ctes = base(ctx, tuple(reads.texts), tuple(reads.numbers))
    ctes += currency_ctes(plan, currency, d) if money else []
    ctes += [
        ("anchor", anchor),
        ("snap", snapshot),
        ("agg", agg),
    ]
    names = tuple(column(f.name) for f in spec.features)
    return Query(spec.name, _measures(spec), (*KEYS, *names, *TAIL), tuple(ctes), body)


def _measures(spec: ModelSpec) -> str:
    snap, lab = spec.snapshot, spec.label
    when = (
        f"{snap.days} days after their first {snap.event}"
        if snap.kind == "after_first"
        else f"every {snap.days} days from their first {snap.event}, {snap.count} times"
    )
    return (
        f"model {spec.name} ({spec.kind}): one row per person and snapshot, "
        f"{when}; {len(spec.features)} features over "
        f"their events up to it; label '{lab.name}' ({lab.kind}) over the {lab.days} days after"
        + (f"; {CURRENCY_RULE}" if lab.kind == "revenue" else ".")
    )


def render(
    plan: Plan, spec: ModelSpec, dialect: str, currency: str | None = None, at: str | None = None
) -> str:
    """The model's query as one SQL statement in `dialect`, with a header saying what it is
    (`currency`, `at`: see feature_query)."""
    d = dialects.get(dialect)
    query = feature_query(plan, spec, d, currency, at)
    header = [
        *textwrap.wrap(f"{spec.name}.sql ({d.name}): {query.measures}", 96),
        f"Returns: {', '.join(query.columns)}.",
        "",
        *textwrap.wrap(DEFINITION, 96),
        "",
        "Generated by trackplan from the plan's models section. Do not edit; run `trackplan build`.",
    ]
    lines = [f"-- {line}".rstrip() for line in header]
    parts = []
    for i, (name, sql) in enumerate(query.ctes):
        body = textwrap.indent(textwrap.dedent(sql).strip(), "    ")
        parts.append(f"{'WITH ' if i == 0 else ''}{name} {d.cte_keyword} (\n{body}\n)")
    statement = ",\n".join(parts) + "\n" + query.body.strip()
    if d.settings:
        statement += f"\n{d.settings}"
    return "\n".join(lines) + "\n" + statement + "\n"
