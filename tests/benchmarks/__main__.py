"""`make bench`: run every tests/benchmarks/bench_*.py and print one table.

Each module exposes `run() -> list[dict]`; a row has `name`, `figures` (what was measured, with
its unit), `baseline` (what it is compared with, measured in the same run) and `ratio`. Nothing
here asserts on time: benchmarks report, tests decide. The same table is printed again as
Markdown for the README.
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
    rows: list[tuple[str, ...]] = []
    for name in names:
        started = time.perf_counter()
        console.print(f"[bold]running {name}[/bold] ...")
        module = importlib.import_module(f"tests.benchmarks.{name}")
        for row in module.run():
            cells = tuple(str(row[key]) for key in ("name", "figures", "baseline", "ratio"))
            rows.append(cells)
            table.add_row(*cells)
        console.print(f"  done in {time.perf_counter() - started:.1f} s")
    console.print(table)
    print("\n| benchmark | measured | baseline (same run) | ratio |\n|---|---|---|---|")
    for cells in rows:
        print("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
