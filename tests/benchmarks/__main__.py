"""`make bench`: run every tests/benchmarks/bench_*.py and print one table.

Each module exposes `run() -> list[dict]`; a row has `name`, `figure` (what was measured, with
its unit), `baseline` (what it is compared with, measured in the same run) and `ratio`. Nothing
here asserts on time: benchmarks report, tests decide.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(selected: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    console = Console(width=200)
    table = Table(title="trackplan benchmarks (2-core machine, same-run baselines)")
    for column in ("benchmark", "measured", "baseline", "ratio"):
        table.add_column(column)
    for name in names:
        started = time.perf_counter()
        console.print(f"[bold]running {name}[/bold] ...")
        module = importlib.import_module(f"tests.benchmarks.{name}")
        for row in module.run():
            table.add_row(row["name"], row["figure"], row["baseline"], row["ratio"])
        console.print(f"  done in {time.perf_counter() - started:.1f} s")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
