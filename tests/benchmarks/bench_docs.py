"""How long the doc site takes to render, next to the JSON Schema target measured in the same run.

Run by `make bench`; prints figures, asserts nothing about time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from compiler.plan import load_plan
from compiler.targets import docs, jsonschema

ROOT = Path(__file__).resolve().parents[2]
PLAN_DIR = ROOT / "tracking_plan"


def _best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[dict]:
    plan = load_plan(PLAN_DIR).plan
    docs.render(plan)  # warm up: imports and template compilation (cached per process)
    site = docs.render(plan)
    size = sum(len(text.encode("utf-8")) for text in site.values())
    docs_s = _best_of(5, lambda: docs.render(plan))
    schema_s = _best_of(5, lambda: jsonschema.render(plan))
    with tempfile.TemporaryDirectory() as out:

        def build(*targets: str) -> None:
            args = [sys.executable, "-m", "compiler", "build", "--out", out]
            for target in targets:
                args += ["--target", target]
            subprocess.run(args, cwd=ROOT, check=True, capture_output=True)

        build()  # later runs compare against up-to-date files and write nothing, like --check
        cli_docs_s = _best_of(3, lambda: build("docs"))
        cli_schema_s = _best_of(3, lambda: build("jsonschema"))
    return [
        {
            "name": "docs: render the site (shipped plan)",
            "figures": f"{docs_s * 1000:.0f} ms for {len(site)} files, {size / 1e6:.2f} MB "
            f"({len(site) / docs_s:.0f} files/s)",
            "baseline": f"jsonschema target: {schema_s * 1000:.0f} ms",
            "ratio": f"{docs_s / schema_s:.1f}x",
        },
        {
            "name": "docs: `trackplan build --target docs`, nothing to write (wall, new process)",
            "figures": f"{cli_docs_s * 1000:.0f} ms",
            "baseline": f"--target jsonschema: {cli_schema_s * 1000:.0f} ms",
            "ratio": f"{cli_docs_s / cli_schema_s:.1f}x",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
