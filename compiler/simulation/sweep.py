"""`simulate --sweep`: which single lever moves the objective most, with ties shown as ties.

Levers: the entry rate (an assumption, not a measurement: marked so), every transition the
forecast uses, and the hazard's base. Each is improved on its own, by +10% relative and by +1
point (capped at 1; for the hazard's base, "improved" means lowered, since a lower base churns
fewer), and ranked by its exact expected effect on the objective (`expected()`), so the ranking
carries no Monte Carlo noise. Two effects within a relative TOLERANCE of each other are a tie:
they share a rank and list each other in `tied_with` (in a chain of products, +10% on any step
before the objective scales it alike, so those levers tie). The Monte Carlo gain with common
random numbers (same seed) is reported next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compiler.simulation.forecast import expected, simulate
from compiler.simulation.model import SimConfig
from compiler.simulation.parameters import ENTRY, HAZARD_BASE, current, with_rate

TOLERANCE = 1e-9  # relative: |a - b| <= TOLERANCE * max(|a|, |b|, |objective|) is a tie
CHANGES: dict[str, Callable[[float], float]] = {
    "+10%": lambda r: r * 1.10,
    "+1pt": lambda r: r + 0.01,
}
LOWER: dict[str, Callable[[float], float]] = {
    "+10%": lambda r: r / 1.10,
    "+1pt": lambda r: r - 0.01,
}


def levers(config: SimConfig) -> list[tuple[str, str, str]]:
    """(lever, kind, label) for every parameter the forecast uses."""
    out = []
    if config.entry is not None:
        out.append((ENTRY, "entry", f"{config.entry.title} -> first state (assumption)"))
    for name in config.needed():
        t = config.transitions[name]
        out.append((name, "transition", t.alias or name))
    if config.hazard is not None and any(o.state == config.hazard.state for o in config.outcomes):
        out.append((HAZARD_BASE, "hazard", "hazard base (lowered)"))
    return out


def _ties(rows: list[dict[str, Any]], scale: float) -> None:
    """Competition ranking (1, 1, 3, ...) by expected gain, best first; ties within TOLERANCE,
    listed in lever order (entry, the chain, rule transitions, the hazard)."""
    order = {r["lever"]: i for i, r in enumerate(rows)}
    rows.sort(key=lambda r: (-r["expected_gain"], order[r["lever"]]))
    for row in rows:
        peers = [
            o["lever"]
            for o in rows
            if o is not row
            and abs(o["expected_gain"] - row["expected_gain"])
            <= TOLERANCE * max(abs(o["expected_gain"]), abs(row["expected_gain"]), scale)
        ]
        row["tied_with"] = peers
        first = next(j for j, o in enumerate(rows) if o["lever"] in peers or o is row)
        row["rank"] = first + 1
    rows.sort(key=lambda r: (r["rank"], order[r["lever"]]))


def sweep(config: SimConfig, cohort: int, runs: int, seed: int | None) -> list[dict[str, Any]]:
    """Rows {lever, kind, label, assumption, change, from, to, objective, expected_gain, gain,
    rank, tied_with, tolerance}; ranked within each change, best first."""
    objective = config.objective
    base_mc = simulate(config, cohort, runs, seed).outcomes[objective].mean()
    base_exact = expected(config, cohort)[objective]
    out: list[dict[str, Any]] = []
    for change, move in CHANGES.items():
        rows = []
        for lever, kind, label in levers(config):
            before = current(config, lever)
            after = LOWER[change](before) if lever == HAZARD_BASE else move(before)
            after = min(max(after, 0.0), 1.0)
            varied = with_rate(config, lever, after)
            exact = expected(varied, cohort)[objective]
            mc = simulate(varied, cohort, runs, seed).outcomes[objective].mean()
            rows.append(
                {
                    "lever": lever,
                    "kind": kind,
                    "label": label,
                    "assumption": lever == ENTRY,
                    "change": change,
                    "from": before,
                    "to": round(after, 12),
                    "objective": objective,
                    "expected": exact,
                    "expected_gain": exact - base_exact,
                    "gain": float(mc - base_mc),
                    "tolerance": TOLERANCE,
                }
            )
        _ties(rows, abs(base_exact))
        out += rows
    return out


def top(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rank-1 rows (one, or several tied) for each kind of change."""
    return {c: [r for r in rows if r["change"] == c and r["rank"] == 1] for c in CHANGES}
