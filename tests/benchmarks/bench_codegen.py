"""Codegen benchmarks: rendering the app-team packages, and what a generated tracker call costs
over a bare posthog-python capture. Each row has its baseline measured in the same run.

Run alone with `python -m tests.benchmarks.bench_codegen`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compiler.plan import load_plan
from compiler.targets import jsonschema, python, typescript
from tests.generated_packages import python_package

ROOT = Path(__file__).resolve().parents[2]
CALLS = 2000


def _best(func: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def _render_rows(plan: Any) -> list[dict[str, Any]]:
    base = _best(lambda: jsonschema.render(plan))
    rows = []
    for module in (python, typescript):
        seconds = _best(lambda module=module: module.render(plan), repeat=2)
        size = sum(len(t) for t in module.render(plan).values())
        rows.append(
            {
                "name": f"render {module.NAME} target (shipped plan)",
                "figures": f"{seconds:.2f} s, {size / 1000:.0f} kB",
                "baseline": f"jsonschema target {base:.3f} s",
                "ratio": round(seconds / base, 1),
            }
        )
    return rows


def _emit_row(plan: Any) -> dict[str, Any]:
    from posthog import Posthog

    client = Posthog("phc_bench", host="http://127.0.0.1:9", before_send=lambda m: None)
    when = datetime(2026, 11, 20, tzinfo=UTC)
    job = dict(job_id="job_9", mode="inpaint", processing_time_ms=1200, success=True)
    job |= dict(credits_before=3, credits_after=2)
    with tempfile.TemporaryDirectory() as tmp, python_package(plan, Path(tmp)) as package:
        tracker = package.Tracker(client=client, source="worker")

        def generated() -> None:
            for _ in range(CALLS):
                tracker.processing_completed(
                    distinct_id="usr_1", user_id="usr_1", timestamp=when, **job
                )

        def bare() -> None:
            for _ in range(CALLS):
                client.capture(
                    "processing_completed",
                    distinct_id="usr_1",
                    properties={**job, "user_id": "usr_1", "source": "worker"},
                    timestamp=when,
                )

        ours, theirs = _best(generated), _best(bare)
    client.shutdown()
    return {
        "name": "tracker.processing_completed (validate + envelope + capture)",
        "figures": f"{ours / CALLS * 1e6:.0f} µs/event",
        "baseline": f"bare Posthog.capture {theirs / CALLS * 1e6:.0f} µs/event",
        "ratio": round(ours / theirs, 1),
    }


def run() -> list[dict[str, Any]]:
    plan = load_plan(ROOT / "tracking_plan").plan
    return [*_render_rows(plan), _emit_row(plan)]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<62} {row['figures']:<22} {row['baseline']:<34} x{row['ratio']}")
