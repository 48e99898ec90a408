"""One dictionary property from the definitions several events give one name (pure).

The plan's dictionary holds each property once (TP014), while typewriter rules are per event.
Identical definitions become one property. Different ones are widened so that every value some
event's rule accepts is still accepted (union of enums, the widest bounds, a pattern or format
kept only when all agree, nullable when any is), and each widening is said in words. Types
cannot be widened, except integer with number (number): the type most events use is kept, and
the others' values will be `type_mismatch` in the audit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from compiler.infer.guess import PropertyGuess

NO_DESCRIPTION = "No description in the typewriter plan."
SHAPE = (
    "type",
    "nullable",
    "enum",
    "minimum",
    "maximum",
    "min_length",
    "max_length",
    "pattern",
    "format",
    "items_type",
    "items_enum",
)


def _shape(p: PropertyGuess) -> tuple[Any, ...]:
    return tuple(
        tuple(v) if isinstance(v, list | tuple) else v for v in (getattr(p, k) for k in SHAPE)
    )


def _union(values: Sequence[Sequence[Any]]) -> list[Any]:
    return list(dict.fromkeys(v for vs in values for v in vs))


def _same(values: Sequence[Any]) -> Any:
    return values[0] if all(v == values[0] for v in values) else None


# field -> how several events' values combine into one that accepts them all (None: no rule)
WIDEN: dict[str, Callable[[Sequence[Any]], Any]] = {
    "enum": _union,
    "items_enum": _union,
    "minimum": min,
    "maximum": max,
    "min_length": min,
    "max_length": max,
    "pattern": _same,
    "format": _same,
}


def _pick_type(defs: list[tuple[str, PropertyGuess]], notes: list[str]) -> str:
    counts = Counter(p.type for _, p in defs)
    if len(counts) == 1:
        return defs[0][1].type
    if set(counts) == {"integer", "number"}:
        notes.append("integer in some events, number in others: written as number")
        return "number"
    kept = max(counts, key=lambda t: (counts[t], -[p.type for _, p in defs].index(t)))
    others = sorted({f"{e} ({p.type})" for e, p in defs if p.type != kept})
    notes.append(
        f"TYPE CONFLICT: {kept} kept (the type of {counts[kept]} of {len(defs)} events); "
        f"{', '.join(others)} differ: the audit reports their values as type_mismatch"
    )
    return kept


def merge(name: str, defs: list[tuple[str, PropertyGuess]]) -> tuple[PropertyGuess, list[str]]:
    """One property for `defs` ((event, definition) pairs, in file order) and the widenings."""
    described = next((p.description for _, p in defs if p.description), None)
    lost = list(dict.fromkeys(n for _, p in defs for n in p.notes))  # each event's own notes
    first = replace(defs[0][1], description=described or NO_DESCRIPTION, notes=lost)
    first.pii = any(p.pii for _, p in defs)
    if len({_shape(p) for _, p in defs}) == 1:
        return first, []
    notes: list[str] = []
    first.type = _pick_type(defs, notes)
    numeric = {"integer", "number"}
    same = [p for _, p in defs if p.type == first.type or {p.type, first.type} <= numeric]
    events = [e for e, p in defs if p in same]
    first.nullable = any(p.nullable for p in same)
    strict = [e for e, p in defs if p in same and not p.nullable]
    if first.nullable and strict:
        notes.append(f"nullable in other events: null now passes in {', '.join(strict)} too")
    first.items_type = Counter(p.items_type for p in same).most_common(1)[0][0]
    for key, widen in WIDEN.items():
        values = [getattr(p, key) for p in same]
        written = None if any(v is None for v in values) else widen(values)
        if key in ("pattern", "format") and written is None and any(values):
            notes.append(f"{key} differs across events ({', '.join(events)}): left out")
        elif any(v != values[0] for v in values):
            shown = "no rule" if written is None else f"{written!r}"
            notes.append(f"{key} differs across events ({', '.join(events)}): {shown}")
        setattr(first, key, written)
    return first, notes
