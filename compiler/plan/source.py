"""Load YAML files into plain Python values that remember where every key and value came from.

PyYAML's `compose` gives every node a start mark; we keep those marks on the containers
(`YMap.key_locs`, `YMap.value_locs`, `YList.item_locs`) so later stages can point at any key or
scalar without searching text. Duplicate keys are reported, never merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from compiler.diagnostics import Diagnostic, Location, error

try:  # the C loader composes the same nodes, several times faster
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


class YMap(dict[str, Any]):
    """A mapping that knows its own position and those of its keys and values."""

    loc: Location
    key_locs: dict[str, Location]
    value_locs: dict[str, Location]

    def key_loc(self, key: str) -> Location:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key: str) -> Location:
        return self.value_locs.get(key, self.key_loc(key))


class YList(list[Any]):
    """A list that knows its own position and those of its items."""

    loc: Location
    item_locs: list[Location]

    def item_loc(self, index: int) -> Location:
        return self.item_locs[index] if index < len(self.item_locs) else self.loc


@dataclass(frozen=True)
class SourceFile:
    path: Path
    root: Any  # YMap for a well-formed plan file, None when it could not be parsed


def _loc(path: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(path, mark.line + 1, mark.column + 1)


class _Converter:
    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self._scalars = yaml.SafeLoader("")  # only its constructor is used

    def convert(self, node: Node) -> Any:
        if isinstance(node, MappingNode):
            return self._mapping(node)
        if isinstance(node, SequenceNode):
            out = YList(self.convert(item) for item in node.value)
            out.loc = _loc(self.path, node)
            out.item_locs = [_loc(self.path, item) for item in node.value]
            return out
        assert isinstance(node, ScalarNode)
        return self._scalars.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode) -> YMap:
        out = YMap()
        out.loc = _loc(self.path, node)
        out.key_locs, out.value_locs = {}, {}
        for key_node, value_node in node.value:
            key_loc = _loc(self.path, key_node)
            key = self.convert(key_node)
            if not isinstance(key, str):
                self.diagnostics.append(
                    error("TP015", f"mapping keys must be strings, got {key!r}", key_loc)
                )
                continue
            if key in out:
                first = out.key_locs[key]
                self.diagnostics.append(
                    error(
                        "TP002",
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        key_loc,
                    )
                )
                continue
            out[key] = self.convert(value_node)
            out.key_locs[key] = key_loc
            out.value_locs[key] = _loc(self.path, value_node)
        return out


def load_file(path: Path) -> tuple[SourceFile, list[Diagnostic]]:
    """Parse one YAML file. Syntax errors become TP001 diagnostics at the error's position."""
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return SourceFile(path, None), [
            error("TP001", f"not UTF-8 text: {exc.reason}", Location(display, 1, 1))
        ]
    except OSError as exc:
        return SourceFile(path, None), [
            error("TP001", f"cannot read file: {exc.strerror}", Location(display, 1, 1))
        ]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if (
            exc.context
            and exc.context_mark
            and exc.problem_mark
            and exc.context_mark.line != exc.problem_mark.line
        ):
            problem += f" ({exc.context} that started at line {exc.context_mark.line + 1})"
        return SourceFile(path, None), [error("TP001", f"YAML syntax error: {problem}", loc)]
    except yaml.YAMLError as exc:
        return SourceFile(path, None), [
            error("TP001", f"YAML syntax error: {exc}", Location(display, 1, 1))
        ]
    if node is None:
        return SourceFile(path, YMap()), []
    converter = _Converter(display)
    try:
        root = converter.convert(node)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        loc = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display, 1, 1)
        return SourceFile(path, None), [error("TP001", f"YAML value error: {exc.problem}", loc)]
    if not isinstance(root, YMap):
        return SourceFile(path, None), converter.diagnostics + [
            error("TP015", "a plan file must be a mapping of sections", _loc(display, node))
        ]
    return SourceFile(path, root), converter.diagnostics


def plan_files(plan_dir: Path) -> list[Path]:
    """Every YAML file of the plan, in a stable order."""
    files = [p for p in plan_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(plan_dir).as_posix())
