"""The plan as small lookup tables the SQL engines join against.

`keys`: one row per plan key inside properties (index, name, type, enum, bounds, pattern and
format ids, pii, deprecated). `events`: one row per plan event with boolean masks over the key
index (allowed here, non-null here), the required key indices and the allowed layers. The SQL
then runs the same generic checks for every (row, present key) pair: its cost follows the keys
a row carries, not the size of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.audit.rules import FORMAT_PATTERNS, AuditRules
from compiler.funnel.dialects import Dialect


@dataclass(frozen=True)
class KeyRow:
    index: int  # 1-based, the position in the json_extract path list
    key: str
    name: str
    type: str
    enum_text: tuple[str, ...] | None
    enum_number: tuple[float, ...] | None
    minimum: float | None
    maximum: float | None
    min_length: int | None
    max_length: int | None
    pattern: int  # 0 none, else 1-based index into patterns
    format: int
    items_type: str | None
    items_enum: tuple[str, ...] | None
    nullable: bool
    envelope: bool


@dataclass(frozen=True)
class EventRow:
    event: str
    allowed: tuple[bool, ...]
    non_null: tuple[bool, ...]
    required: tuple[int, ...]
    layers: tuple[str, ...]


class PlanTables:
    def __init__(self, rules: AuditRules) -> None:
        self.rules = rules
        patterns = sorted({r.prop.pattern for r in rules.keys if r.prop.pattern})
        formats = sorted({r.prop.format for r in rules.keys if r.prop.format})
        self.patterns = tuple(patterns)
        self.formats = tuple(FORMAT_PATTERNS[f] for f in formats)
        self.keys = tuple(
            KeyRow(
                index=i,
                key=r.key,
                name=r.name,
                type=r.prop.type,
                enum_text=(
                    tuple(str(v) for v in r.prop.enum if v is not None)
                    if r.prop.enum is not None and r.prop.type == "string"
                    else None
                ),
                enum_number=(
                    tuple(float(v) for v in r.prop.enum if v is not None)
                    if r.prop.enum is not None and r.prop.type in ("integer", "number")
                    else None
                ),
                minimum=r.prop.minimum,
                maximum=r.prop.maximum,
                min_length=r.prop.min_length,
                max_length=r.prop.max_length,
                pattern=patterns.index(r.prop.pattern) + 1 if r.prop.pattern else 0,
                format=formats.index(r.prop.format) + 1 if r.prop.format else 0,
                items_type=r.prop.items_type,
                items_enum=tuple(str(v) for v in r.prop.items_enum) if r.prop.items_enum else None,
                nullable=r.prop.nullable,
                envelope=r.envelope,
            )
            for i, r in enumerate(rules.keys, 1)
        )
        self.events = tuple(
            EventRow(
                event=name,
                allowed=tuple(name in r.allowed for r in rules.keys),
                non_null=tuple(name in r.non_null for r in rules.keys),
                required=tuple(i for i, r in enumerate(rules.keys, 1) if name in r.required),
                layers=rules.source_layers(name),
            )
            for name in sorted(rules.plan.events)
        )

    @property
    def source_index(self) -> int:
        """The index of the key holding the sending layer (role source); 0 when none does."""
        name = self.rules.source_name
        return next((k.index for k in self.keys if name and k.name == name), 0)

    @property
    def source_enum(self) -> tuple[str, ...]:
        name = self.rules.source_name
        return next((k.enum_text or () for k in self.keys if name and k.name == name), ())


def column_failures(rules: AuditRules, d: Dialect) -> list[tuple[str, str, str]]:
    """(kind, column, SQL condition in `d`) for each way an envelope column of a plan event
    fails: one definition for the DuckDB engine, its screen and every warehouse dialect."""
    out = []
    for col in rules.columns:
        c = col.column  # PostHog's column; findings name the plan's field
        if col.required:
            out.append(("missing_envelope_field", col.name, f"{c} IS NULL"))
        if c == "timestamp":
            continue  # a typed column: a valid date-time whenever present
        failed = []
        if col.prop.min_length is not None:
            failed.append(f"{d.char_length(c)} < {col.prop.min_length}")
        if col.prop.max_length is not None:
            failed.append(f"{d.char_length(c)} > {col.prop.max_length}")
        for pattern in (col.prop.pattern, FORMAT_PATTERNS.get(col.prop.format or "")):
            if pattern:
                failed.append(f"NOT {d.regex_match(c, d.literal(pattern))}")
        if failed:
            condition = f"{c} IS NOT NULL AND ({' OR '.join(failed)})"
            out.append(("constraint_violation", col.name, condition))
    return out
