"""Benchmark: the models' feature SQL and `train`, on a synth export of the shipped plan.

One export (synth, 40,000 people) per run. Timed: the churn model's features in DuckDB, against
the funnel's transition_rates query on the same `events` view (the baseline: one pass over the
funnel's events per person); every model's features in ClickHouse (chdb) against the same in
DuckDB; and `train` (gradient boosting, calibration, permutation importances) against its
logistic baseline's fit alone.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from compiler.cli.main import cli
from compiler.funnel.render import query_sql
from compiler.models.dataset import fit_encoder, load_snapshots
from compiler.models.features import render
from compiler.models.train import baseline, time_split, train
from compiler.plan import load_plan
from tests.models_support import SHIPPED, clickhouse, duck

PEOPLE = 40_000


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def run() -> list[dict[str, str]]:
    plan = load_plan(SHIPPED).plan
    assert plan.models is not None
    specs = plan.models.models
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.jsonl"
        args = ["synth", "--users", str(PEOPLE), "--days", "90", "--seed", "1", "-o", str(export)]
        CliRunner().invoke(cli, args)
        con = duck(export)
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
        churn = specs["churn_propensity"]
        con.execute(render(plan, churn, "duckdb")).fetchall()  # warm the view
        _, t_features = _timed(lambda: con.execute(render(plan, churn, "duckdb")).fetchall())
        _, t_rates = _timed(
            lambda: con.execute(query_sql(plan, "transition_rates", "duckdb")).fetchall()
        )
        _, t_duck = _timed(
            lambda: [con.execute(render(plan, s, "duckdb")).fetchall() for s in specs.values()]
        )
        chs = clickhouse(con, Path(tmp))
        _, t_ch = _timed(
            lambda: [
                chs.query("USE models; " + render(plan, s, "clickhouse")) for s in specs.values()
            ]
        )
        chs.close()
        snaps = load_snapshots(con, plan, churn)
        result, t_train = _timed(train, snaps, churn)
        rows = snaps.take(time_split(snaps, churn.label.days).train)
        encoder = fit_encoder(churn, rows)
        _, t_base = _timed(lambda: baseline(encoder, False).fit(encoder.matrix(rows), rows.label))
    n = len(snaps)
    return [
        {
            "name": f"churn_propensity features, DuckDB ({events:,} events, {n:,} persons)",
            "figures": f"{t_features:.3f} s",
            "baseline": f"transition_rates.sql {t_rates:.3f} s",
            "ratio": f"{t_features / t_rates:.2f}x",
        },
        {
            "name": f"all {len(specs)} models' features, ClickHouse (chdb)",
            "figures": f"{t_ch:.3f} s",
            "baseline": f"the same in DuckDB {t_duck:.3f} s",
            "ratio": f"{t_ch / t_duck:.2f}x",
        },
        {
            "name": f"train churn_propensity ({result.counts['train_rows']:,} training rows)",
            "figures": f"{t_train:.3f} s",
            "baseline": f"the logistic baseline's fit alone {t_base:.3f} s",
            "ratio": f"{t_train / t_base:.1f}x",
        },
    ]
