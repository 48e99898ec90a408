"""Resolve the features of the `models` section: each feature's kind, the keys it needs and
allows, its window, its event and property (on that event, or any event or the envelope), and
its `where` filter; unknown names TP008, bad kinds and windows TP009, missing keys TP016, a
property or feature of the wrong type for what is done with it TP021."""

from __future__ import annotations

import re
from typing import Any

from compiler.diagnostics import error
from compiler.plan import model as m
from compiler.plan import model_analytics as a
from compiler.plan import model_models as mm
from compiler.plan.references import References, suggest
from compiler.plan.source import YMap

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# Columns every features query returns besides the features.
RESERVED = ("person", "snapshot_at", "label", "label_observed")
NUMERIC = ("integer", "number")
# Envelope roles PostHog exports as columns, not inside `properties`.
COLUMN_ROLES = ("event_name", "timestamp", "distinct_id", "event_id")
_NEEDS: dict[str, tuple[str, ...]] = {
    "count": ("event",),
    "sum": ("event", "property"),
    "mean": ("event", "property"),
    "max": ("event", "property"),
    "distinct_count": ("event", "property"),
    "days_since_first": ("event",),
    "days_since_last": ("event",),
    "first_value": ("property",),
    "last_value": ("property",),
    "time_between": ("event", "to_event"),
    "ratio": ("numerator", "denominator"),
}
_ALLOWED: dict[str, tuple[str, ...]] = {
    k: (*v, "where") for k, v in _NEEDS.items() if k not in ("ratio", "time_between")
}
_ALLOWED["first_value"] = ("event", "property", "where")
_ALLOWED["last_value"] = ("event", "property", "where")
_ALLOWED["time_between"] = ("event", "to_event")
_ALLOWED["ratio"] = ("numerator", "denominator")
for _kind in mm.WINDOWED + ("ratio",):
    _ALLOWED[_kind] = (*_ALLOWED[_kind], "days")


class FeatureResolver(References):
    _events: dict[str, m.Event]
    _envelope: dict[str, m.EnvelopeField]

    def _name_ok(self, body: YMap, name: str, what: str, report: bool = True) -> bool:
        problem = None
        if not _NAME.match(name):
            problem = f"{what} name '{name}' is not a lower-case identifier"
        elif name in RESERVED:
            problem = f"{what} name '{name}' is a column every features query returns"
        if problem and report:
            code = "TP009" if not _NAME.match(name) else "TP007"
            self.diagnostics.append(error(code, problem, body.key_loc(name)))
        return problem is None

    def _kind(self, item: YMap, kinds: Any, what: str) -> bool:
        if item["kind"] in kinds:
            return True
        known = ", ".join(kinds)
        self.bad(
            item,
            "kind",
            f"unknown {what} kind '{item['kind']}'{suggest(item['kind'], kinds)} "
            f"(expected one of: {known})",
        )
        return False

    def _keys(
        self,
        item: YMap,
        needs: tuple[str, ...],
        allowed: tuple[str, ...],
        what: str,
        always: tuple[str, ...] = (),
    ) -> bool:
        ok = True
        for key in needs:
            if key not in item:
                self.diagnostics.append(
                    error("TP016", f"a {what} of kind {item['kind']} needs '{key}'", item.loc)
                )
                ok = False
        for key in item:
            if key not in (*allowed, "kind", "description", *needs, *always):
                self.bad(item, key, f"'{key}' does not apply to a {what} of kind {item['kind']}")
                ok = False
        return ok

    def _window(self, item: YMap, minimum: int = 1) -> bool:
        if "days" in item and item["days"] < minimum:
            self.bad(item, "days", f"days must be at least {minimum}, got {item['days']}")
            return False
        return True

    def _property(self, item: YMap, key: str, event: str | None) -> m.Property | None:
        """The property `item[key]` names: on `event` when given, else any event's or the
        envelope's. TP008 when the event (or the plan) has no such property."""
        name = item[key]
        if event is not None:
            found = self._events[event].get(name)
            if found is not None:
                return found.property
            field = self._envelope.get(name)
            if field is not None:
                return field.property
            known = [p.name for p in self._events[event].properties]
            self.bad(
                item,
                key,
                f"'{name}' is not a property of event '{event}'{suggest(name, known)}",
                "TP008",
            )
            return None
        used = {p.name: p.property for e in self._events.values() for p in e.properties}
        used.update({n: f.property for n, f in self._envelope.items()})
        if name not in used:
            self.bad(item, key, f"no event carries property '{name}'{suggest(name, used)}", "TP008")
            return None
        return used[name]

    def _where(self, item: YMap, event: str | None) -> tuple[bool, mm.Where | None]:
        if "where" not in item:
            return True, None
        where = item["where"]
        tests = [t for t in a.COVARIATE_TESTS if t in where]
        if len(tests) != 1:
            self.diagnostics.append(
                error("TP009", "where needs exactly one of above, below, equals", where.loc)
            )
            return False, None
        prop = self._property(where, "property", event)
        if prop is None:
            return False, None
        test, value = tests[0], where[tests[0]]
        if test != "equals" and prop.type not in NUMERIC:
            self.bad(
                where, test, f"'{prop.name}' is a {prop.type}; {test} compares numbers", "TP021"
            )
            return False, None
        if test == "equals" and not _fits(value, prop.type):
            self.bad(
                where,
                "equals",
                f"{value!r} is not a value of '{prop.name}' (a {prop.type})",
                "TP021",
            )
            return False, None
        return True, mm.Where(prop.name, test, value)

    def _feature(self, name: str, item: YMap) -> mm.Feature | None:
        kind = item["kind"]
        if not self._kind(item, mm.FEATURE_KINDS, "feature"):
            return None
        ok = self._keys(item, _NEEDS[kind], _ALLOWED[kind], "feature") and self._window(item)
        event = self.ref(item, "event", self._events, "event") if "event" in item else None
        to_event = self.ref(item, "to_event", self._events, "event") if "to_event" in item else None
        ok = ok and ("event" not in item or event is not None)
        ok = ok and ("to_event" not in item or to_event is not None)
        if not ok:
            return None
        prop = self._property(item, "property", event) if "property" in item else None
        if "property" in item and prop is None:
            return None
        if kind in mm.NUMERIC_KINDS and prop is not None and prop.type not in NUMERIC:
            self.bad(
                item,
                "property",
                f"'{prop.name}' is a {prop.type}; a {kind} needs a number",
                "TP021",
            )
            return None
        if prop is not None and prop.type == "array":
            self.bad(item, "property", f"'{prop.name}' is an array; use a scalar", "TP021")
            return None
        where_ok, where = self._where(item, event)
        if not where_ok:
            return None
        categorical = kind in mm.VALUE_KINDS and prop is not None and prop.type not in NUMERIC
        return mm.Feature(
            name,
            kind,
            event=event,
            property=prop.name if prop is not None else None,
            where=where,
            days=item.get("days"),
            to_event=to_event,
            categorical=categorical,
            description=item.get("description", ""),
        )

    def _ratio(
        self, name: str, item: YMap, features: dict[str, mm.Feature], raw: YMap
    ) -> mm.Feature | None:
        if not (self._keys(item, _NEEDS["ratio"], _ALLOWED["ratio"], "feature")):
            return None
        if not self._window(item):
            return None
        parts = []
        for key in ("numerator", "denominator"):
            ref = item[key]
            if ref not in raw:
                self.bad(item, key, f"undefined feature '{ref}'{suggest(ref, raw)}", "TP008")
                return None
            part = features.get(ref)
            if part is None:
                return None  # the part's own problem is reported where it is written
            if part.kind != "count":
                self.bad(
                    item,
                    key,
                    f"a ratio divides counts; '{ref}' is a {part.kind} feature",
                    "TP021",
                )
                return None
            parts.append(part)
        return mm.Feature(
            name,
            "ratio",
            numerator=parts[0].name,
            denominator=parts[1].name,
            parts=tuple(parts),
            description=item.get("description", ""),
        )

    # --- labels, snapshots, models ----------------------------------------------------------


def _fits(value: Any, type_: str) -> bool:
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ in NUMERIC:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_ == "string":
        return isinstance(value, str)
    return True
