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
        try:
            return self._scalars.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark
            loc = Location(self.path, mark.line + 1, mark.column + 1) if mark else None
            raise _BadValue(str(exc.problem), loc or _loc(self.path, node)) from None
        except (ValueError, TypeError, OverflowError) as exc:
            raise _BadValue(
                f"cannot read {node.value!r} as {node.tag.rsplit(':', 1)[-1]} ({exc}); "
                "quote it if it is meant as text",
                _loc(self.path, node),
            ) from None

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


class _BadValue(Exception):
    """A scalar PyYAML cannot build (`2001-02-30`, `!!int x`): reported where it is written."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message, self.location = message, location


_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of byte `offset`; the column counts characters, not bytes."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", errors="replace")) + 1


def text_position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character `index` of `text`."""
    index = max(0, min(index, len(text)))
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _not_utf8(display: str, data: bytes, exc: UnicodeDecodeError) -> Diagnostic:
    if data.startswith(_UTF16_32_BOMS):
        return error(
            "TP001",
            "not UTF-8: the file starts with a UTF-16 or UTF-32 byte-order mark; save it as UTF-8",
            Location(display, 1, 1),
        )
    line, col = byte_position(data, exc.start)
    bad = data[exc.start]
    try:
        guess = f"'{bytes([bad]).decode('cp1252')}' in Latin-1/Windows-1252"
    except UnicodeDecodeError:
        guess = str(exc.reason)
    if exc.reason == "unexpected end of data":
        guess = "a multi-byte character cut off at the end of the file"
    return error(
        "TP001",
        f"not UTF-8: byte 0x{bad:02x} at line {line}, column {col} ({guess}); "
        "save the file as UTF-8",
        Location(display, line, col),
    )


def _reader_error(display: str, text: str, exc: yaml.reader.ReaderError) -> Diagnostic:
    """A character YAML does not allow (NUL, other control characters), at its position."""
    line, col = text_position(text, exc.position)
    char = exc.character
    if isinstance(char, int) and char == 0:
        what = "a NUL byte (0x00)"
        hint = " (is this a binary file?)"
    elif isinstance(char, int):
        what = f"the character U+{char:04X}"
        hint = ""
    else:
        what, hint = "a character", ""
    return error(
        "TP001",
        f"YAML syntax error: {what} at line {line}, column {col}: {exc.reason}{hint}",
        Location(display, line, col),
    )


def _char_at(text: str, line: int, column: int) -> str:
    """The character at 0-based `line` and `column`, or '' past the end."""
    lines = text.split("\n")
    if 0 <= line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


def read_text_lossy(path: Path) -> str | None:
    """The file's text with undecodable bytes replaced, or None when it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


def load_file(path: Path) -> tuple[SourceFile, list[Diagnostic]]:
    """Parse one YAML file. Every way it can fail is one TP001 at the position of the cause.

    Bytes that are not UTF-8, characters YAML forbids (NUL), syntax errors and scalars that
    cannot be built all name their line and column; a file that cannot be read names line 1.
    A UTF-8 byte-order mark at the start is allowed (YAML allows it).
    """
    display = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return SourceFile(path, None), [
            error("TP001", f"cannot read the file: {reason}", Location(display, 1, 1))
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SourceFile(path, None), [_not_utf8(display, data, exc)]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:
        return SourceFile(path, None), [_reader_error(display, text, exc)]
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
        if mark and _char_at(text, mark.line, mark.column) == "\t":
            problem += " (a tab: YAML indents with spaces only)"
        return SourceFile(path, None), [error("TP001", f"YAML syntax error: {problem}", loc)]
    except yaml.YAMLError as exc:
        return SourceFile(path, None), [
            error("TP001", f"YAML syntax error: {exc}", Location(display, 1, 1))
        ]
    except RecursionError:
        return SourceFile(path, None), [
            error("TP001", "YAML syntax error: nested too deeply", Location(display, 1, 1))
        ]
    if node is None:
        return SourceFile(path, YMap()), []
    converter = _Converter(display)
    try:
        root = converter.convert(node)
    except _BadValue as exc:
        return SourceFile(path, None), [
            error("TP001", f"YAML value error: {exc.message}", exc.location)
        ]
    except RecursionError:
        return SourceFile(path, None), [
            error("TP001", "YAML value error: nested too deeply", _loc(display, node))
        ]
    if not isinstance(root, YMap):
        return SourceFile(path, None), converter.diagnostics + [
            error("TP015", "a plan file must be a mapping of sections", _loc(display, node))
        ]
    return SourceFile(path, root), converter.diagnostics


def plan_files(plan_dir: Path) -> list[Path]:
    """Every YAML file of the plan, in a stable order."""
    files = [p for p in plan_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(plan_dir).as_posix())
