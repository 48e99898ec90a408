"""Benchmark: `trackplan rates` on a 1M-event PostHog JSONL export, against a bare DuckDB scan.

The export is made once per run by tests/funnel_people.py (people walking the funnel, stitched
through $identify). Timed: reading it with compiler.exports.open_events and computing every rate
(`compute`: transitions, milestones, P(purchase|click), churn, hazard cells, PRD queries), with
and without person_id. The baseline, in the same run, is DuckDB reading every field of the same
file once (`read_json`, summing string lengths so no column is skipped).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from compiler.exports import open_events
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


def _rates(path: Path, plan: Any) -> int:
    con = duckdb.connect()
    open_events(con, [str(path)])
    result = compute(con, plan)
    return result.transitions["S1|S0"].denominator


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
            persons, rates_s = _timed(_rates, path, plan)
            label = "person_id" if with_pid else "stitched from $identify/$create_alias"
            rows_out.append(
                {
                    "name": f"rates on {n_events:,} events ({persons:,} persons; {label})",
                    "figures": f"{rates_s:.2f} s ({n_events / rates_s:,.0f} events/s)",
                    "baseline": f"bare DuckDB scan of the file: {scan_s:.2f} s",
                    "ratio": f"{rates_s / scan_s:.1f}x the scan",
                }
            )
    return rows_out


if __name__ == "__main__":
    for row in run():
        print(" | ".join(str(row[k]) for k in ("name", "figures", "baseline", "ratio")))
