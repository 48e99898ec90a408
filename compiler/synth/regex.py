"""Strings that match a regular expression, for the plan's `pattern` properties.

`RegexGen(pattern).sample(r)` walks the parse tree of Python's own regex parser (`re._parser`)
and builds a random string (the tree is compiled once into a small program): literals as written, a class picks one of its characters, a repeat
picks a count (unbounded repeats stay short), a branch picks an arm, a back-reference repeats
its group. Lookarounds and word boundaries are not generated, so a sample is always checked with
`re.search` (the plan's patterns are JSON Schema patterns: unanchored unless they say so) and
`sample` retries; `None` after the retries means the caller falls back to something else.
"""

from __future__ import annotations

import importlib
import random
import re
import string
from collections.abc import Callable
from typing import Any

_parser: Any = importlib.import_module("re._parser")  # the stdlib's parser (3.11+), untyped
_c: Any = importlib.import_module("re._constants")

SAFE = string.ascii_letters + string.digits + "_"  # what `.` and negated classes draw from
_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters + "_",
    "CATEGORY_WORD": SAFE,
    "CATEGORY_NOT_WORD": "-.:",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": SAFE,
}
UNBOUNDED_EXTRA = 6  # a repeat without an upper bound adds at most this many copies
TRIES = 40


class _Unsupported(Exception):
    pass


def _class_chars(items: list[tuple[Any, Any]]) -> str:
    """The characters a `[...]` class allows, drawn from printable ASCII."""
    negate = False
    chars: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.add(chr(arg))
        elif name == "RANGE":
            low, high = arg
            chars.update(chr(c) for c in range(low, min(high, low + 4096) + 1))
        elif name == "CATEGORY":
            chars.update(_CATEGORIES.get(str(arg), ""))
        else:
            raise _Unsupported(name)
    if negate:
        return "".join(c for c in SAFE if c not in chars) or "~"
    return "".join(sorted(chars))


class RegexGen:
    """Random strings matching `pattern` (checked); compile once, sample many times."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled = re.compile(pattern)
        self.program: Node | None = None
        self.anchored_end = False
        self.exact = False  # every sample matches by construction: no check needed
        self.charset = ""  # every character a sample can hold
        try:
            tree = _parser.parse(pattern)
            self.program = _compile(tree)
            ends = (_c.AT_END, _c.AT_END_STRING)
            self.anchored_end = any(str(op) == "AT" and arg in ends for op, arg in tree)
            self.exact = _exact(list(tree))
            self.charset = "".join(sorted(set(_charset(self.program))))
        except (_Unsupported, re.error, RecursionError):
            self.program = None

    def matches(self, text: str) -> bool:
        return self.compiled.search(text) is not None

    def sample(self, r: random.Random, accept: Callable[[str], bool] | None = None) -> str | None:
        """A matching string that `accept(text)` (if given) also takes, or None."""
        if self.program is None:
            return None
        for _ in range(TRIES):
            out: list[str] = []
            _run(self.program, r, out, {})
            text = "".join(out)
            if (self.exact or self.matches(text)) and (accept is None or accept(text)):
                return text
        return None


_EDGES = {"AT_BEGINNING", "AT_BEGINNING_STRING", "AT_END", "AT_END_STRING"}
_PLAIN = {"LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY", "BRANCH", "SUBPATTERN"}
_PLAIN |= {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT", "ATOMIC_GROUP"}


def _exact(tree: list[Any]) -> bool:
    """No lookaround, back-reference or inner anchor: what _run builds always matches."""
    for i, (op, arg) in enumerate(tree):
        name = str(op)
        if name == "AT":
            if str(arg) not in _EDGES or 0 < i < len(tree) - 1:
                return False
        elif name not in _PLAIN or not _inner_plain(name, arg):
            return False
    return True


def _inner_plain(name: str, arg: Any) -> bool:
    if name == "BRANCH":
        return all(_no_at(list(sub)) for sub in arg[1])
    if name == "SUBPATTERN":
        return _no_at(list(arg[3]))
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return _no_at(list(arg[2]))
    if name == "ATOMIC_GROUP":
        return _no_at(list(arg))
    return True


def _no_at(tree: list[Any]) -> bool:
    return all(
        str(op) in _PLAIN and str(op) != "AT" and _inner_plain(str(op), arg) for op, arg in tree
    )


def _charset(node: Node) -> str:
    kind = node[0]
    if kind in ("lit", "any"):
        return str(node[1])
    if kind in ("seq", "alt"):
        return "".join(_charset(sub) for sub in node[1])
    if kind == "rep":
        return _charset(node[3])
    if kind == "group":
        return _charset(node[2])
    return ""


# A compiled node: ("lit", text) | ("any", chars) | ("seq", nodes) | ("alt", nodes)
# | ("rep", low, high, node) | ("group", id, node) | ("ref", id)
Node = tuple[Any, ...]


def _compile(tree: Any) -> Node:
    nodes: list[Node] = []
    for op, arg in tree:
        node = _compile_one(str(op), arg)
        if node is None:
            continue
        if node[0] == "lit" and nodes and nodes[-1][0] == "lit":
            nodes[-1] = ("lit", nodes[-1][1] + node[1])
        else:
            nodes.append(node)
    return nodes[0] if len(nodes) == 1 else ("seq", tuple(nodes))


def _compile_one(name: str, arg: Any) -> Node | None:
    if name == "LITERAL":
        return ("lit", chr(arg))
    if name == "NOT_LITERAL":
        return ("any", "".join(c for c in SAFE if ord(c) != arg))
    if name == "ANY":
        return ("any", SAFE)
    if name == "IN":
        return ("any", _class_chars(arg))
    if name == "CATEGORY":
        return ("any", _CATEGORIES.get(str(arg), SAFE))
    if name == "BRANCH":
        return ("alt", tuple(_compile(sub) for sub in arg[1]))
    if name == "SUBPATTERN":
        group, _add, _del, sub = arg
        body = _compile(sub)
        return body if group is None else ("group", group, body)
    if name == "ATOMIC_GROUP":
        return _compile(arg)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = arg
        high = low + UNBOUNDED_EXTRA if high == _c.MAXREPEAT else high
        return ("rep", low, high, _compile(sub))
    if name == "GROUPREF":
        return ("ref", arg)
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return None  # anchors match by position; lookarounds are left to the check
    raise _Unsupported(name)


def _run(node: Node, r: random.Random, out: list[str], groups: dict[int, str]) -> None:
    kind = node[0]
    if kind == "lit":
        out.append(node[1])
    elif kind == "any":
        chars = node[1]
        out.append(chars[int(r.random() * len(chars))])
    elif kind == "seq":
        for sub in node[1]:
            _run(sub, r, out, groups)
    elif kind == "rep":
        _, low, high, sub = node
        count = low if low == high else r.randint(low, high)
        if sub[0] == "any":
            out.append(_chars(sub[1], count, r))
        else:
            for _ in range(count):
                _run(sub, r, out, groups)
    elif kind == "alt":
        _run(node[1][int(r.random() * len(node[1]))], r, out, groups)
    elif kind == "group":
        mark = len(out)
        _run(node[2], r, out, groups)
        groups[node[1]] = "".join(out[mark:])
    elif kind == "ref":
        out.append(groups.get(node[1], ""))


_DIGITS, _HEX = string.digits, "0123456789abcdef"


def _chars(chars: str, count: int, r: random.Random) -> str:
    """`count` characters drawn uniformly from `chars`."""
    if chars == _HEX:
        return f"{r.getrandbits(4 * count):0{count}x}" if count else ""
    if chars == _DIGITS:
        return f"{r.randrange(10**count):0{count}d}" if count else ""
    n = len(chars)
    return "".join([chars[int(r.random() * n)] for _ in range(count)])
