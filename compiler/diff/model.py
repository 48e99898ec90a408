"""What changed between two plans, as typed records: each change, its class and its bump."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from compiler.diagnostics import Location


class Severity(StrEnum):
    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"


class Bump(StrEnum):
    NONE = "none"
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        return BUMP_ORDER.index(self)


BUMP_ORDER = (Bump.NONE, Bump.PATCH, Bump.MINOR, Bump.MAJOR)

# kind -> (severity, bump, what it means). The one classification table: README documents it.
_B, _N = Severity.BREAKING, Severity.NON_BREAKING
KINDS: dict[str, tuple[Severity, Bump, str]] = {
    "event_removed": (_B, Bump.MAJOR, "an event was removed"),
    "event_renamed": (_B, Bump.MAJOR, "an event was removed and deprecated in favour of another"),
    "property_removed": (_B, Bump.MAJOR, "a property was removed from an event"),
    "required_property_added": (_B, Bump.MAJOR, "an event gained a required property"),
    "type_changed": (_B, Bump.MAJOR, "a property's type (or item type) changed"),
    "enum_value_removed": (_B, Bump.MAJOR, "an enum value was removed, or an enum added"),
    "range_narrowed": (_B, Bump.MAJOR, "minimum raised/added or maximum lowered/added"),
    "length_narrowed": (_B, Bump.MAJOR, "min_length raised/added or max_length lowered/added"),
    "pattern_changed": (_B, Bump.MAJOR, "a pattern was added or changed"),
    "format_changed": (_B, Bump.MAJOR, "a format was added or changed"),
    "made_required": (_B, Bump.MAJOR, "an optional property was made required"),
    "made_non_nullable": (_B, Bump.MAJOR, "a nullable property was made non-null"),
    "layer_removed": (_B, Bump.MAJOR, "a layer was removed from an event"),
    "meta_mapping_removed": (_B, Bump.MAJOR, "a Meta mapping was removed"),
    "meta_mapping_changed": (_B, Bump.MAJOR, "a Meta mapping changed"),
    "envelope_made_required": (_B, Bump.MAJOR, "an envelope field was made required"),
    "envelope_field_removed": (_B, Bump.MAJOR, "an envelope field was removed"),
    "envelope_field_changed": (_B, Bump.MAJOR, "an envelope field's placement, name or role"),
    "dictionary_property_removed": (_B, Bump.MAJOR, "a property used in the base was removed"),
    "event_added": (_N, Bump.MINOR, "an event was added"),
    "optional_property_added": (_N, Bump.MINOR, "an event gained an optional property"),
    "enum_value_added": (_N, Bump.MINOR, "an enum value was added, or the enum dropped"),
    "range_widened": (_N, Bump.MINOR, "minimum lowered/dropped or maximum raised/dropped"),
    "length_widened": (_N, Bump.MINOR, "min_length lowered/dropped or max_length raised/dropped"),
    "pattern_removed": (_N, Bump.MINOR, "a pattern was dropped"),
    "format_removed": (_N, Bump.MINOR, "a format was dropped"),
    "made_optional": (_N, Bump.MINOR, "a required property was made optional"),
    "made_nullable": (_N, Bump.MINOR, "a property was made nullable"),
    "layer_added": (_N, Bump.MINOR, "an event gained a layer"),
    "meta_mapping_added": (_N, Bump.MINOR, "a Meta mapping was added"),
    "envelope_made_optional": (_N, Bump.MINOR, "an envelope field was made optional"),
    "envelope_field_added": (_N, Bump.MINOR, "an optional envelope field was added"),
    "dictionary_property_added": (_N, Bump.MINOR, "a property was added to the dictionary"),
    "dictionary_property_dropped": (_N, Bump.PATCH, "an unused property was removed"),
    "deprecation_added": (_N, Bump.MINOR, "an event name or a property was deprecated"),
    "description_changed": (_N, Bump.PATCH, "a description or an event's trigger changed"),
    "annotation_changed": (_N, Bump.PATCH, "category, stages, owner, unit, pii or examples"),
    "version_changed": (_N, Bump.NONE, "an event's own version changed (informational)"),
}


@dataclass(frozen=True)
class Change:
    """One difference between the base and the new plan.

    `events` are the events whose contract it touches (their bump follows from it); a change
    of the plan as a whole (a deprecated name, an unused dictionary entry) names none.
    `location` is in the new plan, or in the base (`side` "base") for what was removed.
    """

    kind: str
    subject: str  # the event, property, envelope field or mapping changed
    message: str
    events: tuple[str, ...] = ()
    location: Location | None = None
    side: str = "new"

    @property
    def severity(self) -> Severity:
        return KINDS[self.kind][0]

    @property
    def bump(self) -> Bump:
        return KINDS[self.kind][1]

    @property
    def breaking(self) -> bool:
        return self.severity is Severity.BREAKING

    def sort_key(self) -> tuple[int, str, str, str]:
        return (0 if self.breaking else 1, self.subject, self.kind, self.message)


def max_bump(bumps: list[Bump]) -> Bump:
    return max(bumps, key=lambda b: b.rank, default=Bump.NONE)


def major(version: str) -> int | None:
    """The major number of a `MAJOR.MINOR.PATCH` version, None when it has none."""
    head = version.strip().lstrip("v").split(".")[0]
    return int(head) if head.isdigit() else None


@dataclass(frozen=True)
class DiffResult:
    base_label: str
    new_label: str
    base_version: str
    new_version: str
    changes: tuple[Change, ...]
    # each event's own version in the base and in the new plan (None: not in that plan)
    event_versions: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)

    @property
    def non_breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.breaking)

    def event_bumps(self) -> dict[str, Bump]:
        """The suggested version bump of each changed event, by name ("none" for an event whose
        only change is its own version: that change is informational)."""
        out: dict[str, Bump] = {}
        for change in self.changes:
            for event in change.events:
                out[event] = max_bump([out.get(event, Bump.NONE), change.bump])
        return dict(sorted(out.items()))

    def event_suggestions(self) -> dict[str, EventVersion]:
        """Per changed event: its bump, its version before and now, and the version suggested
        (the base version raised by the bump; a new event keeps the version it declares)."""
        out = {}
        for event, bump in self.event_bumps().items():
            before, now = self.event_versions.get(event, (None, None))
            suggested = next_version(before, bump) if before is not None else now
            out[event] = EventVersion(event, bump, before, now, suggested)
        return out

    @property
    def plan_bump(self) -> Bump:
        return max_bump([c.bump for c in self.changes])

    @property
    def major_raised(self) -> bool:
        base, new = major(self.base_version), major(self.new_version)
        return base is not None and new is not None and new > base


@dataclass(frozen=True)
class EventVersion:
    """An event's suggested version: `base` raised by `bump`; None where the event is not."""

    event: str
    bump: Bump
    base: str | None
    new: str | None
    suggested: str | None

    @property
    def behind(self) -> bool:
        """The new plan still declares a version below the suggested one."""
        if self.new is None or self.suggested is None:
            return False
        return _rank(self.new) < _rank(self.suggested)


def _rank(version: str | None) -> tuple[int, ...]:
    parts = (version or "").split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()


def next_version(version: str, bump: Bump) -> str:
    """`version` raised by `bump` (SemVer), or `version` as is when it is not MAJOR.MINOR.PATCH."""
    parts = version.strip().lstrip("v").split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return version
    x, y, z = (int(p) for p in parts)
    return {
        Bump.NONE: f"{x}.{y}.{z}",
        Bump.PATCH: f"{x}.{y}.{z + 1}",
        Bump.MINOR: f"{x}.{y + 1}.0",
        Bump.MAJOR: f"{x + 1}.0.0",
    }[bump]


@dataclass(frozen=True)
class EventImpact:
    """Of an export's rows of one changed event: how many the base passes and the new fails."""

    event: str
    rows: int
    base_failing: int
    new_failing: int
    newly_failing: int  # pass the base, fail the new plan
    examples: tuple[str, ...] = ()  # uuids of such rows, at most three
