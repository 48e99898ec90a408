"""Check raw plan files against the declared shape (spec.py) and prune what is wrong.

`check_sections` reports unknown keys (TP003), wrong value types (TP015), missing keys (TP016)
and missing descriptions (TP004), and returns a cleaned copy that holds only well-shaped values,
so the resolver can trust what it reads. Sections of named entries merge across files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Diagnostic, Location, error, warning
from compiler.plan.source import SourceFile, YList, YMap
from compiler.plan.spec import SECTIONS, ListOf, NamedMap, Record, Scalar, Spec

_INVALID = object()


@dataclass
class _Checker:
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def check(self, value: Any, spec: Spec, loc: Location, what: str) -> Any:
        if isinstance(spec, Scalar):
            return self._scalar(value, spec, loc, what)
        if isinstance(spec, ListOf):
            return self._list(value, spec, loc, what)
        if not isinstance(value, YMap):
            self.diagnostics.append(error("TP015", f"{what} must be a mapping", loc))
            return _INVALID
        if isinstance(spec, NamedMap):
            return self._named(value, spec, what)
        return self._record(value, spec, loc, what)

    def _scalar(self, value: Any, spec: Scalar, loc: Location, what: str) -> Any:
        ok = isinstance(value, spec.kinds) and not (
            isinstance(value, bool) and bool not in spec.kinds
        )
        if not ok:
            self.diagnostics.append(
                error("TP015", f"{what} must be {spec.noun}, got {_describe(value)}", loc)
            )
            return _INVALID
        return value

    def _list(self, value: Any, spec: ListOf, loc: Location, what: str) -> Any:
        if not isinstance(value, YList):
            self.diagnostics.append(
                error("TP015", f"{what} must be a list, got {_describe(value)}", loc)
            )
            return _INVALID
        out = YList()
        out.loc, out.item_locs = value.loc, []
        for index, item in enumerate(value):
            item_loc = value.item_loc(index)
            cleaned = self.check(item, spec.item, item_loc, f"item {index + 1} of {what}")
            if cleaned is not _INVALID:
                out.append(cleaned)
                out.item_locs.append(item_loc)
        return out

    def _named(self, value: YMap, spec: NamedMap, what: str) -> YMap:
        out = _empty_like(value)
        for name, item in value.items():
            # Problems with an entry as a whole point at its name, not at its body.
            cleaned = self.check(item, spec.value, value.key_loc(name), f"'{name}'")
            if cleaned is not _INVALID:
                if isinstance(cleaned, YMap):
                    cleaned.loc = value.key_loc(name)
                _keep(out, value, name, cleaned)
        return out

    def _record(self, value: YMap, spec: Record, loc: Location, what: str) -> Any:
        out = _empty_like(value)
        for key, item in value.items():
            if key not in spec.fields:
                known = ", ".join(sorted(spec.fields))
                self.diagnostics.append(
                    error(
                        "TP003",
                        f"unknown key '{key}' in {what} (expected one of: {known})",
                        value.key_loc(key),
                    )
                )
                continue
            cleaned = self.check(item, spec.fields[key], value.value_loc(key), f"'{key}' of {what}")
            if cleaned is not _INVALID:
                _keep(out, value, key, cleaned)
        if spec.described and not str(value.get("description") or "").strip():
            self.diagnostics.append(warning("TP004", f"{what} has no description", loc))
        missing = sorted(spec.required - out.keys())
        for key in missing:
            if key not in value:  # present but ill-typed was reported already
                self.diagnostics.append(
                    error("TP016", f"{what} is missing required key '{key}'", loc)
                )
        return _INVALID if missing else out


def _empty_like(value: YMap) -> YMap:
    out = YMap()
    out.loc, out.key_locs, out.value_locs = value.loc, {}, {}
    return out


def _keep(out: YMap, source: YMap, key: str, cleaned: Any) -> None:
    out[key] = cleaned
    out.key_locs[key] = source.key_loc(key)
    out.value_locs[key] = source.value_loc(key)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, YMap | dict):
        return "a mapping"
    if isinstance(value, YList | list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


@dataclass(frozen=True)
class Sections:
    """The cleaned sections of all plan files, merged; NamedMap entries keep their own file."""

    values: dict[str, YMap]
    # Entries of mergeable sections defined more than once: section -> [(name, value, where)].
    duplicates: dict[str, list[tuple[str, Any, Location]]]
    unreadable: int = 0  # files that could not be parsed; their sections are unknown


def check_sections(files: list[SourceFile]) -> tuple[Sections, list[Diagnostic]]:
    checker = _Checker()
    merged: dict[str, YMap] = {}
    duplicates: dict[str, list[tuple[str, Any, Location]]] = {}
    for source in files:
        if source.root is None:
            continue
        root: YMap = source.root
        for name, body in root.items():
            section = SECTIONS.get(name)
            if section is None:
                known = ", ".join(sorted(SECTIONS))
                checker.diagnostics.append(
                    error(
                        "TP003",
                        f"unknown section '{name}' (expected one of: {known})",
                        root.key_loc(name),
                    )
                )
                continue
            cleaned = checker.check(body, section.spec, root.value_loc(name), f"section '{name}'")
            if cleaned is _INVALID:
                continue
            if name not in merged:
                merged[name] = cleaned
            elif section.mergeable:
                duplicates.setdefault(name, []).extend(
                    _merge_named(merged[name], cleaned, name, checker.diagnostics)
                )
            else:
                first = merged[name].loc
                checker.diagnostics.append(
                    error(
                        "TP002",
                        f"section '{name}' is defined again (first in {first.display_path()}:{first.line})",
                        root.key_loc(name),
                    )
                )
    unreadable = sum(1 for f in files if f.root is None)
    return Sections(merged, duplicates, unreadable), checker.diagnostics


def _merge_named(
    into: YMap, more: YMap, section: str, diagnostics: list[Diagnostic]
) -> list[tuple[str, Any, Location]]:
    """Add `more` to `into`; return the entries that were already there."""
    again: list[tuple[str, Any, Location]] = []
    for name, value in more.items():
        if name in into:
            # Properties defined twice get a type-aware message from the resolver.
            if section != "properties":
                first = into.key_loc(name)
                diagnostics.append(
                    error(
                        "TP007",
                        f"{section} entry '{name}' is defined twice (first in {first.display_path()}:{first.line})",
                        more.key_loc(name),
                    )
                )
            again.append((name, value, more.key_loc(name)))
            continue
        _keep(into, more, name, value)
    return again
