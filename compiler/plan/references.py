"""Looking up names the plan refers to, reporting unknown ones (TP008) where they are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Diagnostic, Location, closest, error
from compiler.plan.shape import Sections
from compiler.plan.source import YList, YMap


def suggest(name: str, known: Any) -> str:
    """Lint messages carry the hint in brackets: `undefined layer 'x' (did you mean 'y'?)`."""
    match = closest(name, known)
    return f" (did you mean '{match}'?)" if match else ""


@dataclass
class References:
    """The checked sections plus the diagnostics found while resolving them."""

    sections: Sections
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def section(self, name: str) -> YMap:
        empty = YMap()
        empty.loc, empty.key_locs, empty.value_locs = Location("", 0, 0), {}, {}
        return self.sections.values.get(name, empty)

    def known(self, names: YList | None, known: Any, what: str) -> tuple[str, ...]:
        """The names of `names` that exist in `known`; TP008 for the others, TP017 for repeats."""
        out: list[str] = []
        for index, name in enumerate(names or ()):
            loc = names.item_loc(index)  # type: ignore[union-attr]
            if name not in known:
                self.diagnostics.append(
                    error("TP008", f"undefined {what} '{name}'{suggest(name, known)}", loc)
                )
            elif name in out:
                self.diagnostics.append(error("TP017", f"{what} '{name}' is listed twice", loc))
            else:
                out.append(name)
        return tuple(out)

    def ref(self, body: YMap, key: str, known: Any, what: str) -> str | None:
        name = body.get(key)
        if name is None:
            return None
        if name not in known:
            self.diagnostics.append(
                error(
                    "TP008",
                    f"undefined {what} '{name}'{suggest(name, known)}",
                    body.value_loc(key),
                )
            )
            return None
        return str(name)

    def probability(self, body: YMap, key: str) -> bool:
        value = body[key]
        if not 0 <= value <= 1:
            self.bad(body, key, f"{key} is a probability; it must be between 0 and 1, got {value}")
            return False
        return True

    def bad(self, body: YMap, key: str, message: str, code: str = "TP009") -> None:
        self.diagnostics.append(error(code, message, body.value_loc(key)))
