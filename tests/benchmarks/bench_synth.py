"""Benchmark: `synth` events per second, writing about a million events.

Baseline, measured in the same run: serialising the very same rows, already built, with the
standard library's json.dumps, one line per event (the cost of only writing a JSONL export the
naive way). The ratio is synth's throughput (simulating people and writing) over that.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from compiler.plan import load_plan
from compiler.simulation.config import config_from_plan
from compiler.synth import synthesize
from compiler.synth.export import write_export
from compiler.synth.profile import load_profile

USERS = 140_000  # about 1.1 million events
ROOT = Path(__file__).resolve().parents[2]
# The shipped plan's behaviour profile (tracking_plan/synth_profile), as `trackplan synth` uses it.
PROFILE = load_profile(ROOT / "tracking_plan", "synth_profile")


def _synth(plan, config, path: Path) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    _, chunks = synthesize(plan, config, USERS, 30, seed=1, profile=PROFILE)
    count = write_export(path, (rows for rows, _ in chunks))
    return count, time.perf_counter() - start


def _stdlib_json(plan, config, path: Path) -> float:  # type: ignore[no-untyped-def]
    _, chunks = synthesize(plan, config, USERS, 30, seed=1, profile=PROFILE)
    rows = [row for chunk, _ in chunks for row in chunk]
    start = time.perf_counter()
    with path.open("w") as f:
        for t, uuid, event, distinct_id, person_id, props, person_props, created in rows:
            line = {"uuid": uuid, "timestamp": t, "created_at": created, "event": event}
            line |= {"properties": props, "distinct_id": distinct_id, "person_id": person_id}
            f.write(json.dumps(line | {"person_properties": person_props}) + "\n")
    return time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    plan = load_plan(ROOT / "tracking_plan").plan
    config = config_from_plan(plan)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        baseline_s = _stdlib_json(plan, config, Path(tmp) / "baseline.jsonl")
        for suffix in (".jsonl", ".parquet"):
            count, seconds = _synth(plan, config, Path(tmp) / f"events{suffix}")
            rows.append(
                {
                    "name": f"synth {USERS:,} people -> {count:,} events ({suffix})",
                    "figures": f"{count / seconds:,.0f} events/s ({seconds:.1f} s)",
                    "baseline": f"stdlib json.dumps of the built rows: {count / baseline_s:,.0f} events/s",
                    "ratio": f"{baseline_s / seconds:.2f}x",
                }
            )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<50} {row['figures']:<32} {row['baseline']:<55} {row['ratio']}")
