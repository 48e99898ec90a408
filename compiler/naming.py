"""Identifier rules per language, in one place, so every target and the docs name things alike.

Plan names are snake_case. Python keeps them (escaping keywords with a trailing underscore);
TypeScript methods are camelCase and types PascalCase.
"""

from __future__ import annotations

import keyword
import re

_TS_RESERVED = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "as",
        "implements",
        "interface",
        "let",
        "package",
        "private",
        "protected",
        "public",
        "static",
        "yield",
        "any",
        "boolean",
        "number",
        "string",
        "symbol",
        "type",
        "from",
        "of",
    ]
)


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]


def python_identifier(name: str) -> str:
    """`order_placed` -> `order_placed`; `class` -> `class_`."""
    ident = "_".join(_words(name)) or "_"
    if ident[0].isdigit():
        ident = "_" + ident
    return ident + "_" if keyword.iskeyword(ident) or keyword.issoftkeyword(ident) else ident


def pascal_case(name: str) -> str:
    """`order_placed` -> `OrderPlaced` (class and type names)."""
    ident = "".join(w[:1].upper() + w[1:] for w in _words(name)) or "_"
    return "_" + ident if ident[0].isdigit() else ident


def camel_case(name: str) -> str:
    """`order_placed` -> `orderPlaced` (TypeScript methods)."""
    pascal = pascal_case(name)
    ident = pascal[:1].lower() + pascal[1:]
    return ident + "_" if ident in _TS_RESERVED else ident


def ts_property_key(name: str) -> str:
    """A property key as written in a TypeScript object type: quoted unless a plain identifier."""
    return name if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", name) else f'"{name}"'
