"""Benchmark: `trackplan rates` on a 1M-event PostHog JSONL export, against a bare DuckDB scan.

The export is made once per run by tests/funnel_people.py (people walking the funnel, stitched
through $identify). Timed, with and without person_id: reading it with compiler.exports.open_events, computing every
rate (`compute`: transitions, milestones, P(purchase|click), churn, hazard cells, PRD queries),
and what `trackplan fit` runs (transitions and hazard cells, then the fit). The baseline, in the same run, is DuckDB reading every field of the same
file once (`read_json`, summing string lengths so no column is skipped).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from compiler.exports import open_events
from compiler.funnel.fit import fit
from compiler.funnel.rates import compute
from compiler.plan import load_plan
from tests.funnel_people import people_rows, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
TARGET_EVENTS = 1_000_000
EVENTS_PER_PERSON = 3.85  # what the generator averages; checked against the real count below


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def _scan(path: Path) -> int:
    con = duckdb.connect()
    sql = (
        "SELECT count(*), sum(length(event) + length(distinct_id) + length(CAST(uuid AS VARCHAR)) "
        "+ length(CAST(properties AS VARCHAR)) + length(CAST(timestamp AS VARCHAR))) "
        f"FROM read_json('{path}', format = 'newline_delimited')"
    )
    return int(con.execute(sql).fetchone()[0])  # type: ignore[index]


def _read(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    open_events(con, [str(path)])
    return con


def _fit(con: duckdb.DuckDBPyConnection, plan: Any) -> Any:
    return fit(compute(con, plan, fit_only=True), plan)


def run() -> list[dict[str, Any]]:
    plan = load_plan(ROOT / "tracking_plan").plan
    rows_out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-rates-") as tmp:
        for with_pid in (True, False):
            path = Path(tmp) / f"events-{with_pid}.jsonl"
            rows = people_rows(
                int(TARGET_EVENTS / EVENTS_PER_PERSON), seed=1, with_person_id=with_pid
            )
            write_jsonl(path, rows)
            del rows
            n_events, scan_s = _timed(_scan, path)
            con, read_s = _timed(_read, path)
            result, rates_s = _timed(compute, con, plan)
            _config, fit_s = _timed(_fit, con, plan)
            persons = result.transitions["S1|S0"].denominator
            label = "person_id" if with_pid else "stitched from $identify/$create_alias"
            baseline = f"bare DuckDB scan of the file: {scan_s:.2f} s"
            for what, seconds in (
                ("rates (read + every query)", read_s + rates_s),
                ("  of which reading the export (open_events)", read_s),
                ("  of which the funnel queries (compute)", rates_s),
                ("fit (read + transitions + hazard)", read_s + fit_s),
            ):
                rows_out.append(
                    {
                        "name": f"{what}: {n_events:,} events, {persons:,} persons, {label}",
                        "figures": f"{seconds:.2f} s ({n_events / seconds:,.0f} events/s)",
                        "baseline": baseline,
                        "ratio": f"{seconds / scan_s:.1f}x the scan",
                    }
                )
    return rows_out


if __name__ == "__main__":
    for row in run():
        print(" | ".join(str(row[k]) for k in ("name", "figures", "baseline", "ratio")))
