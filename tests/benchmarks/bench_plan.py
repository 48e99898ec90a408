"""Lint and build on the shipped plan, against bare YAML parsing of the same files."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

from compiler import targets
from compiler.build import compare, render_all
from compiler.plan import load_plan
from compiler.plan.source import plan_files

PLAN = Path(__file__).resolve().parents[2] / "tracking_plan"


def _best(fn, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def run() -> list[dict[str, str]]:
    files = plan_files(PLAN)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    bare = _best(lambda: [yaml.load(p.read_text(), Loader=loader) for p in files])
    lint = _best(lambda: load_plan(PLAN))
    plan = load_plan(PLAN).plan
    chosen = list(targets.TARGETS.values())
    render = _best(lambda: render_all(plan, chosen), repeat=3)
    with tempfile.TemporaryDirectory() as out:
        check = _best(lambda: compare(Path(out), render_all(plan, chosen), chosen), repeat=3)
    base = f"yaml.load of {len(files)} files: {bare * 1000:.1f} ms"
    return [
        {
            "name": "lint (load+check+resolve)",
            "figures": f"{lint * 1000:.1f} ms",
            "baseline": base,
            "ratio": f"{lint / bare:.1f}x",
        },
        {
            "name": f"build: render {len(chosen)} target(s)",
            "figures": f"{render * 1000:.1f} ms",
            "baseline": base,
            "ratio": f"{render / bare:.1f}x",
        },
        {
            "name": "build --check (render+compare)",
            "figures": f"{check * 1000:.1f} ms",
            "baseline": base,
            "ratio": f"{check / bare:.1f}x",
        },
    ]
