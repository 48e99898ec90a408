r"""Regular expressions compiled to one byte-level DFA table, for the C line scanner.

The scanner (`compiler/_linescan.c`) checks a property value by running its raw JSON text
through a DFA. The regexes are the SQL screen's own (`screen.value_regex`) and the plan's
column patterns, so the DFA must match exactly what RE2 (DuckDB's regex engine, and the
reference engine's `re2`) matches. Only this subset is supported: literals, classes (`.`,
`[...]`, `[^...]`, `\d \w \s` and their negations, ASCII-only as in RE2), groups,
alternation, greedy or lazy repeats, and `^`/`$` at the two ends (`$` only at the very end, as
RE2's `$`). Anything else (flags, `\b`, lookaround, backreferences, `\A`/`\Z`, a `{,n}` repeat
or a POSIX class, which Python's parser reads differently from RE2) raises `Unsupported`, and
the caller treats the value as unprovable: its start state is 0, which matches nothing.

Matching is over UTF-8 bytes, and a character is a whole UTF-8 sequence, as in RE2: `.`, every
class and every range consume one code point's bytes. The scanner only runs a DFA on text it
has checked is valid UTF-8 (plain lines are ASCII; other strings pass `utf8_char`), so a class
holding every non-ASCII character can accept any lead byte followed by its continuation bytes.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, cast

import numpy as np

ALL = (1 << 256) - 1
MAX_NFA = 200_000  # states; a larger regex is not worth a table
MAX_DFA = 60_000

# RE2's classes (the SQL screen runs on RE2): \s is ASCII whitespace without \v.
_CATEGORIES = {
    sre_c.CATEGORY_DIGIT: b"0123456789",
    sre_c.CATEGORY_SPACE: b"\t\n\f\r ",
    sre_c.CATEGORY_WORD: b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_",
}
_NEGATED = {
    sre_c.CATEGORY_NOT_DIGIT: sre_c.CATEGORY_DIGIT,
    sre_c.CATEGORY_NOT_SPACE: sre_c.CATEGORY_SPACE,
    sre_c.CATEGORY_NOT_WORD: sre_c.CATEGORY_WORD,
}


class Unsupported(ValueError):
    """The regex uses something the DFA compiler does not handle."""


def _mask(data: bytes) -> int:
    out = 0
    for b in data:
        out |= 1 << b
    return out


class _Nfa:
    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.edges: list[list[tuple[int, int]]] = []

    def state(self) -> int:
        if len(self.eps) >= MAX_NFA:
            raise Unsupported("regex too large")
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1

    def chain(self, start: int, data: bytes) -> int:
        for b in data:
            nxt = self.state()
            self.edges[start].append((1 << b, nxt))
            start = nxt
        return start

    def items(self, start: int, items: list[tuple[object, object]]) -> int:
        for op, arg in items:
            start = self.item(start, op, arg)
        return start

    def item(self, start: int, op: object, arg: object) -> int:
        if op == sre_c.LITERAL:
            return self.chain(start, _encode(arg))
        if op in (sre_c.NOT_LITERAL, sre_c.IN, sre_c.ANY):
            end = self.state()
            for sequence in _utf8_sequences(_class_ranges(op, arg)):
                at = start
                for mask in sequence[:-1]:
                    nxt = self.state()
                    self.edges[at].append((mask, nxt))
                    at = nxt
                self.edges[at].append((sequence[-1], end))
            return end
        if op == sre_c.SUBPATTERN:
            _group, add, remove, sub = cast(tuple[object, int, int, list[Any]], arg)
            if add or remove:
                raise Unsupported("inline flags")
            return self.items(start, list(sub))
        if op == sre_c.BRANCH:
            end = self.state()
            for alt in arg[1]:  # type: ignore[index]
                first = self.state()
                self.eps[start].append(first)
                self.eps[self.items(first, list(alt))].append(end)
            return end
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            low, high, body = cast(tuple[int, int, list[Any]], arg)
            sub = list(body)
            for _ in range(low):
                start = self.items(start, sub)
            if high == sre_c.MAXREPEAT:
                loop = self.state()
                self.eps[start].append(loop)
                self.eps[self.items(loop, sub)].append(loop)
                return loop
            end = self.state()
            self.eps[start].append(end)
            for _ in range(high - low):
                start = self.items(start, sub)
                self.eps[start].append(end)
            return end
        raise Unsupported(f"regex operator {op}")


MAX_CODE = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)
Ranges = list[tuple[int, int]]  # sorted, disjoint, inclusive code point ranges


def _encode(code: object) -> bytes:
    try:
        return chr(code).encode()  # type: ignore[arg-type]
    except (UnicodeEncodeError, ValueError, TypeError) as exc:  # a surrogate: RE2 has none
        raise Unsupported("not a Unicode scalar value") from exc


def _normal(ranges: Ranges) -> Ranges:
    """Sorted, merged, without surrogates (no valid UTF-8 text holds one)."""
    out: Ranges = []
    for low, high in sorted(ranges):
        for lo, hi in ((low, min(high, SURROGATES[0] - 1)), (max(low, SURROGATES[1] + 1), high)):
            if lo > hi:
                continue
            if out and lo <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
    return out


def _complement(ranges: Ranges) -> Ranges:
    out: Ranges = []
    at = 0
    for low, high in _normal(ranges):
        if low > at:
            out.append((at, low - 1))
        at = high + 1
    if at <= MAX_CODE:
        out.append((at, MAX_CODE))
    return _normal(out)


def _of(data: bytes) -> Ranges:
    return [(b, b) for b in data]


def _class_ranges(op: object, arg: object) -> Ranges:
    """The code points one ANY, NOT_LITERAL or IN item matches, under RE2's rules: `.` is any
    character but a newline; `\\d \\w \\s` are ASCII (`\\s` without `\\v`)."""
    if op == sre_c.ANY:
        return _complement([(10, 10)])
    if op == sre_c.NOT_LITERAL:
        _encode(arg)
        return _complement([(arg, arg)])  # type: ignore[list-item]
    negate, ranges = False, []
    for inner_op, inner in arg:  # type: ignore[attr-defined]
        if inner_op == sre_c.NEGATE:
            negate = True
        elif inner_op == sre_c.LITERAL:
            _encode(inner)
            ranges.append((inner, inner))
        elif inner_op == sre_c.RANGE:
            low, high = inner
            ranges.append((low, high))
        elif inner_op == sre_c.CATEGORY and inner in _CATEGORIES:
            ranges += _of(_CATEGORIES[inner])
        elif inner_op == sre_c.CATEGORY and inner in _NEGATED:
            ranges += _complement(_of(_CATEGORIES[_NEGATED[inner]]))
        else:
            raise Unsupported(f"class item {inner_op}")
    return _complement(ranges) if negate else _normal(ranges)


def _bytes_mask(low: int, high: int) -> int:
    return ((1 << (high + 1)) - 1) & ~((1 << low) - 1)


_CONT = _bytes_mask(0x80, 0xBF)
# Every non-ASCII character, on valid UTF-8 input: a lead byte and its continuation bytes.
_ANY_WIDE = [
    [_bytes_mask(0xC2, 0xDF), _CONT],
    [_bytes_mask(0xE0, 0xEF), _CONT, _CONT],
    [_bytes_mask(0xF0, 0xF4), _CONT, _CONT, _CONT],
]


def _split(low: int, high: int) -> list[list[tuple[int, int]]]:
    """Byte ranges per position whose sequences are exactly the UTF-8 encodings of the code
    points low..high (no surrogate inside), as RE2 and Rust's utf8-ranges compile them."""
    for top in (0x7F, 0x7FF, 0xFFFF):
        if low <= top < high:
            return _split(low, top) + _split(top + 1, high)
    if high <= 0x7F:
        return [[(low, high)]]
    width = len(chr(low).encode())
    for i in range(1, width):
        m = (1 << (6 * i)) - 1
        if low & ~m != high & ~m:
            if low & m:
                return _split(low, low | m) + _split((low | m) + 1, high)
            if high & m != m:
                return _split(low, (high & ~m) - 1) + _split(high & ~m, high)
    return [list(zip(chr(low).encode(), chr(high).encode(), strict=True))]


def _utf8_sequences(ranges: Ranges) -> list[list[int]]:
    """Byte masks per position, one list per sequence, matching one character of `ranges`."""
    ranges = _normal(ranges)
    if not ranges:
        raise Unsupported("a class that matches nothing")
    ascii_mask = 0
    wide: Ranges = []
    for low, high in ranges:
        if low <= 0x7F:
            ascii_mask |= _bytes_mask(low, min(high, 0x7F))
        if high >= 0x80:
            wide.append((max(low, 0x80), high))
    out: list[list[int]] = [[ascii_mask]] if ascii_mask else []
    if wide == _normal([(0x80, MAX_CODE)]):
        return out + _ANY_WIDE
    for low, high in wide:
        out += [[_bytes_mask(lo, hi) for lo, hi in seq] for seq in _split(low, high)]
    return out


# Python's parser reads these differently from RE2 (`{,n}` is a repeat in Python, a literal in
# RE2; `[[:alpha:]]` a POSIX class in RE2, a set and a `]` in Python): never compiled.
_RE2_DIFFERS = re.compile(r"\{,|\[[:=.]")


def _parse(regex: str, search: bool) -> tuple[_Nfa, int, int]:
    """An NFA (start, accepting end) that fully matches `regex`, or contains a match when
    `search` (as RE2's partial match does)."""
    if _RE2_DIFFERS.search(regex):
        raise Unsupported("a construct Python's parser reads differently from RE2")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "possible nested set", "set difference": unsure
            parsed = sre_parse.parse(regex)
    except (re.error, Warning, RecursionError, OverflowError) as exc:
        raise Unsupported(str(exc)) from exc
    if parsed.state.flags & ~(sre_c.SRE_FLAG_UNICODE):
        raise Unsupported("regex flags")
    items = list(parsed)
    anchored_start = bool(items) and items[0] == (sre_c.AT, sre_c.AT_BEGINNING)
    anchored_end = bool(items) and items[-1] == (sre_c.AT, sre_c.AT_END)
    items = items[int(anchored_start) : len(items) - int(anchored_end)]
    nfa = _Nfa()
    start = nfa.state()
    at = start
    if search and not anchored_start:
        at = nfa.state()
        nfa.eps[start].append(at)
        nfa.edges[at].append((ALL, at))
    at = nfa.items(at, items)
    if search and not anchored_end:
        tail = nfa.state()
        nfa.eps[at].append(tail)
        nfa.edges[tail].append((ALL, tail))
        at = tail
    return nfa, start, at


@dataclass(frozen=True)
class Table:
    """DFAs sharing one transition table. State 0 rejects; `starts[i]` is regex i's start."""

    classes: np.ndarray  # uint8[256]: byte -> class
    trans: np.ndarray  # int32[states * classes]
    accept: np.ndarray  # uint8[states]
    starts: tuple[int, ...]
    accept_from: int  # states from this one on accept, the others do not

    @property
    def nclasses(self) -> int:
        return int(self.classes.max()) + 1

    def fullmatch(self, index: int, data: bytes) -> bool:
        """What the scanner computes, in Python (for tests)."""
        state, width = self.starts[index], self.nclasses
        for b in data:
            state = int(self.trans[state * width + int(self.classes[b])])
            if state == 0:
                return False
        return bool(self.accept[state])


def _partition(masks: set[int]) -> list[int]:
    classes = [ALL]
    for mask in masks:
        split = []
        for c in classes:
            inside, outside = c & mask, c & ~mask
            split += [part for part in (inside, outside) if part]
        classes = split
    return classes


def compile_all(regexes: list[tuple[str, bool]]) -> Table:
    """One table for every (regex, search) pair, in order. A regex the compiler does not support
    gets start state 0, which matches nothing."""
    nfas: list[tuple[_Nfa, int, int] | None] = []
    for regex, search in regexes:
        try:
            nfas.append(_parse(regex, search))
        except Unsupported:
            nfas.append(None)
    masks = {m for nfa in nfas if nfa for edges in nfa[0].edges for m, _ in edges}
    classes = _partition(masks)
    class_of = np.zeros(256, dtype=np.uint8)
    for k, c in enumerate(classes):
        for b in range(256):
            if c >> b & 1:
                class_of[b] = k
    width = len(classes)
    rows: list[list[int]] = [[0] * width]  # the dead state
    accept = [0]
    starts = []
    for parsed in nfas:
        if parsed is None:
            starts.append(0)
            continue
        size = len(rows)
        try:
            starts.append(_determinize(*parsed, classes, rows, accept))
        except Unsupported:
            del rows[size:], accept[size:]
            starts.append(0)
    # Number accepting states last, so "accepting" is one comparison: state >= accept_from.
    # (Minimizing the table, 1229 -> 679 states for the shipped plan, saved 3% of the scan and
    # cost more than that to build.)
    order = sorted(range(len(rows)), key=lambda state: (accept[state], state))
    new = np.empty(len(rows), dtype=np.int64)
    new[order] = np.arange(len(rows))
    trans = new[np.array(rows, dtype=np.int64)[order]]
    flags = np.array(accept, dtype=np.uint8)[order]
    accepting = np.flatnonzero(flags)
    return Table(
        class_of,
        trans.astype(np.int32).reshape(-1),
        flags,
        tuple(int(new[s]) for s in starts),
        int(accepting[0]) if len(accepting) else len(rows),
    )


def _determinize(
    nfa: _Nfa, start: int, end: int, classes: list[int], rows: list[list[int]], accept: list[int]
) -> int:
    """Subset construction into `rows`/`accept`; returns the start state's number."""
    closures: dict[int, frozenset[int]] = {}

    def closure(state: int) -> frozenset[int]:
        if state not in closures:
            seen, todo = {state}, [state]
            while todo:
                for nxt in nfa.eps[todo.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            closures[state] = frozenset(seen)
        return closures[state]

    in_class = {}  # mask -> the class indexes it covers
    for edges in nfa.edges:
        for mask, _ in edges:
            if mask not in in_class:
                in_class[mask] = [k for k, c in enumerate(classes) if c & mask]
    first = closure(start)
    number = {first: len(rows)}
    order = [first]
    rows.append([0] * len(classes))
    accept.append(int(end in first))
    for current in order:
        buckets: dict[int, set[int]] = {}
        for state in current:
            for mask, target in nfa.edges[state]:
                for k in in_class[mask]:
                    buckets.setdefault(k, set()).add(target)
        row = rows[number[current]]
        for k, targets in buckets.items():
            nxt = frozenset().union(*(closure(t) for t in targets))
            if nxt not in number:
                if len(number) >= MAX_DFA:
                    raise Unsupported("DFA too large")
                number[nxt] = len(rows)
                order.append(nxt)
                rows.append([0] * len(classes))
                accept.append(int(end in nxt))
            row[k] = number[nxt]
    return number[first]
