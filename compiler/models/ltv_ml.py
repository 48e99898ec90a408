"""The ML side of `trackplan ltv-compare` (compiler/models/ltv_compare.py): which of the plan's
models answers a horizon, the label currency, and the training rows, none of whose label
windows reaches past the calibration end."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np

from compiler.funnel import dialects
from compiler.funnel.builder import Context, Query, render
from compiler.funnel.fragments import base
from compiler.models.dataset import Snapshots, load_snapshots
from compiler.models.features import CURRENCY_RULE, currency_ctes
from compiler.plan.model import Plan
from compiler.plan.model_models import ModelSpec

ROLLING_STEP = 7  # days between rolling training snapshots
ROLLING_COUNT = 12


class CompareRefused(ValueError):
    """Too little data, or a horizon the data cannot judge; the message says which."""


def regression_models(plan: Plan) -> dict[int, ModelSpec]:
    """The plan's regression models with a revenue label, by label days (first by name)."""
    out: dict[int, ModelSpec] = {}
    models = plan.models.models if plan.models is not None else {}
    for name in sorted(models):
        spec = models[name]
        if spec.kind == "regression" and spec.label.kind == "revenue":
            out.setdefault(spec.label.days, spec)
    return out


def majority_currency(con: duckdb.DuckDBPyConnection, plan: Plan) -> str | None:
    """The currency a revenue label counts by default, from the features' own SQL
    (features.currency_ctes, CURRENCY_RULE) run on `con`'s `events`; None: no revenue event with
    a value."""
    if plan.revenue is None or not plan.revenue.events:
        return None
    d = dialects.get("duckdb")
    sources = plan.revenue.events
    ctes = base(
        Context(plan, d),
        tuple(s.currency for s in sources if s.currency),
        tuple(s.value for s in sources),
    )
    ctes += currency_ctes(plan, None, d)
    body = (
        "SELECT (SELECT currency FROM label_currency) AS currency, "
        "(SELECT count(*) FROM label_currencies) AS currencies"
    )
    query = Query("label_currency", CURRENCY_RULE, ("currency", "currencies"), tuple(ctes), body)
    row = con.execute(render(query, d)).fetchone()
    return None if row is None or not row[1] else str(row[0])


def _rolling(
    con: duckdb.DuckDBPyConnection, plan: Plan, spec: ModelSpec, end: datetime, currency: str
) -> Snapshots:
    """Training snapshots like the holdout's: at the end of C - N days, and every ROLLING_STEP
    days before it (at most ROLLING_COUNT, none before the first transaction), each over the
    persons with a transaction by then."""
    first = dict(con.execute("SELECT customer, min(day) FROM tx GROUP BY customer").fetchall())
    start = min(first.values())
    parts = []
    for k in range(ROLLING_COUNT):
        at = end - timedelta(days=spec.label.days + k * ROLLING_STEP)
        if at.date() < start:
            break
        snaps = load_snapshots(con, plan, spec, currency, sql_time(at))
        keep = [i for i, p in enumerate(snaps.persons) if p in first and first[p] <= at.date()]
        parts.append(snaps.take(np.array(keep, dtype=np.intp)))
    if not parts:
        raise CompareRefused(
            f"model '{spec.name}': no {spec.label.days}-day window ends by {end.date()} after the "
            f"first transaction ({start}): choose a later --calibration-end"
        )
    return Snapshots(
        tuple(p for s in parts for p in s.persons),
        np.concatenate([s.at for s in parts]),
        {k: [v for s in parts for v in s.values[k]] for k in parts[0].values},
        np.concatenate([s.label for s in parts]),
        np.concatenate([s.observed for s in parts]),
    )


def sql_time(t: datetime) -> str:
    return f"TIMESTAMP '{t.isoformat(sep=' ', timespec='microseconds')}'"


def training_rows(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    spec: ModelSpec,
    end: datetime,
    currency: str,
    rolling: bool,
) -> Snapshots:
    """The ML model's training rows: snapshots whose label window ends by `end`."""
    n = spec.label.days
    if rolling:
        train = _rolling(con, plan, spec, end, currency)
    else:
        snaps = load_snapshots(con, plan, spec, currency)
        limit = np.datetime64(end - timedelta(days=n), "us")
        train = snaps.take(np.flatnonzero(snaps.at <= limit))
    positives = int(np.count_nonzero(train.label > 0))
    if positives < spec.min_positives:
        raise CompareRefused(
            f"model '{spec.name}': {positives} snapshots with revenue among the "
            f"{len(train)} whose {n}-day label window ends by {end.date()}; training needs at "
            f"least {spec.min_positives} (min_positives): choose a later --calibration-end or "
            "use a longer export"
        )
    return train
