"""How long the doc site takes to render, next to the JSON Schema target measured in the same run.

Run by `make bench`; prints figures, asserts nothing about time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from compiler.plan import load_plan
from compiler.targets import docs, jsonschema

PLAN_DIR = Path(__file__).resolve().parents[2] / "tracking_plan"


def _best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[dict]:
    plan = load_plan(PLAN_DIR).plan
    docs.render(plan)  # warm up imports; each render builds its own Jinja environment
    site = docs.render(plan)
    size = sum(len(text.encode("utf-8")) for text in site.values())
    docs_s = _best_of(5, lambda: docs.render(plan))
    schema_s = _best_of(5, lambda: jsonschema.render(plan))
    return [
        {
            "name": "docs: render the site (shipped plan)",
            "figures": f"{docs_s * 1000:.0f} ms for {len(site)} files, {size / 1e6:.2f} MB "
            f"({len(site) / docs_s:.0f} files/s)",
            "baseline": f"jsonschema target: {schema_s * 1000:.0f} ms",
            "ratio": f"{docs_s / schema_s:.1f}x",
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
