"""Property values drawn from the plan's dictionary: type, enum, range, length, format, pattern.

`Values.draw(prop, r)` returns a value that `valid(prop, value)` accepts, or `MISSING` when the
dictionary (with a `Where` test on top) leaves no value. Strings never look like an email address
or a phone number unless the property is marked pii (the audit's pii_leak check). A `Where` is
a covariate's test (`above`, `below`, `equals`) that the value must pass (`want=True`) or fail.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from compiler.audit.rules import EMAIL_LIKE, FORMAT_PATTERNS, PHONE_LIKE
from compiler.plan.model import Property
from compiler.synth.regex import RegexGen

MISSING: Any = object()  # no value satisfies the constraints
TRIES = 30
_FORMATS = {name: re.compile(p) for name, p in FORMAT_PATTERNS.items()}
_EMAIL, _PHONE = re.compile(EMAIL_LIKE), re.compile(PHONE_LIKE)
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Where:
    test: str  # above | below | equals
    value: Any
    want: bool  # the value must pass (True) or fail (False) the test

    def passes(self, value: Any) -> bool:
        if value is None:
            return False
        if self.test == "equals":
            return bool(value == self.value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        bound = float(self.value)
        return value > bound if self.test == "above" else value < bound


def hex_token(r: random.Random, bits: int = 40) -> str:
    return f"{r.getrandbits(bits):0{bits // 4}x}"


def _pii_like(prop: Property, text: str) -> bool:
    return not prop.pii and bool(_EMAIL.search(text) or _PHONE.search(text))


class Values:
    """Draws values; compiled patterns are kept per property."""

    def __init__(self) -> None:
        self._gens: dict[str, RegexGen] = {}
        self._fast: dict[int, Callable[[random.Random, int | None, bool], Any]] = {}
        self._checks: dict[int, Callable[[str], bool] | None] = {}

    def gen(self, pattern: str) -> RegexGen:
        found = self._gens.get(pattern)
        if found is None:
            found = self._gens[pattern] = RegexGen(pattern)
        return found

    def valid(self, prop: Property, value: Any) -> bool:
        """What the audit checks of one non-null value."""
        if prop.enum is not None:
            return value in prop.enum
        kind = prop.type
        if kind == "boolean":
            return isinstance(value, bool)
        if kind in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if kind == "integer" and not isinstance(value, int):
                return False
            low, high = prop.minimum, prop.maximum
            return (low is None or value >= low) and (high is None or value <= high)
        if kind == "array":
            return isinstance(value, list)
        if not isinstance(value, str):
            return False
        if prop.pattern is not None and not self.gen(prop.pattern).matches(value):
            return False
        return self._text_ok(prop, value)

    def _text_check(self, prop: Property, gen: RegexGen) -> Callable[[str], bool] | None:
        """The checks a pattern's samples still need; None when they cannot fail."""
        plain = prop.min_length is None and prop.max_length is None and prop.format is None
        if plain and (prop.pii or not (set(gen.charset) & set("@+ .-"))):
            return None  # no length or format to check, and it cannot look like pii
        return lambda text: self._text_ok(prop, text)

    def _text_ok(self, prop: Property, value: str) -> bool:
        """A string's checks besides its pattern."""
        if prop.min_length is not None and len(value) < prop.min_length:
            return False
        if prop.max_length is not None and len(value) > prop.max_length:
            return False
        if prop.format in _FORMATS and not _FORMATS[prop.format].search(value):
            return False
        return not _pii_like(prop, value)

    def draw(
        self,
        prop: Property,
        r: random.Random,
        where: Where | None = None,
        *,
        now_us: int | None = None,
        money: bool = False,
    ) -> Any:
        if where is None:  # the common case: one function per property, made once
            fast = self._fast.get(id(prop))
            if fast is None:
                fast = self._fast[id(prop)] = self._fast_for(prop)
            return fast(r, now_us, money)
        if prop.enum is not None:
            values = [v for v in prop.enum if v is not None and where.passes(v) == where.want]
            return r.choice(values) if values else MISSING
        if where.test == "equals" and where.want:
            return where.value if self.valid(prop, where.value) else MISSING
        for _ in range(TRIES):
            value = self._draw(prop, r, where, now_us, money)
            if value is MISSING:
                return MISSING
            if self.valid(prop, value) and where.passes(value) == where.want:
                return value
        return MISSING

    def _fast_for(self, prop: Property) -> Callable[[random.Random, int | None, bool], Any]:
        """A drawer whose values are valid by construction (no check after the draw)."""
        if prop.enum is not None:
            values = tuple(v for v in prop.enum if v is not None)
            if not values:
                return lambda r, now, money: MISSING
            return lambda r, now, money: values[int(r.random() * len(values))]
        kind = prop.type
        if kind == "boolean":
            return lambda r, now, money: r.random() < 0.5
        if kind in ("integer", "number"):
            return lambda r, now, money: _number(prop, r, None, money)
        if kind == "array":
            return lambda r, now, money: self._array(prop, r)
        lengths = prop.min_length is not None or prop.max_length is not None
        if prop.pattern is not None or prop.format is None or not lengths:
            return lambda r, now, money: self.string(prop, r, now)  # checked as it is made
        return lambda r, now, money: self._checked(prop, r, now, money)

    def _checked(self, prop: Property, r: random.Random, now_us: int | None, money: bool) -> Any:
        for _ in range(TRIES):
            value = self._draw(prop, r, None, now_us, money)
            if value is MISSING or self.valid(prop, value):
                return value
        return MISSING

    def _draw(
        self, prop: Property, r: random.Random, where: Where | None, now_us: int | None, money: bool
    ) -> Any:
        kind = prop.type
        if kind == "boolean":
            return r.random() < 0.5
        if kind in ("integer", "number"):
            return _number(prop, r, where, money)
        if kind == "array":
            return self._array(prop, r)
        return self.string(prop, r, now_us)

    def string(self, prop: Property, r: random.Random, now_us: int | None = None) -> Any:
        if prop.pattern is not None:
            gen = self.gen(prop.pattern)
            key = id(prop)
            if key not in self._checks:
                self._checks[key] = self._text_check(prop, gen)
            text = gen.sample(r, self._checks[key])
            if text is not None and not gen.anchored_end:
                longer = text + hex_token(r, 32)  # unanchored: vary the tail, keys stay unique
                return longer if self.valid(prop, longer) else text
            return MISSING if text is None else text
        if prop.format is not None:
            return _formatted(prop, r, now_us)
        text = f"{prop.name[:12]}_{hex_token(r)}"
        low, high = prop.min_length or 0, prop.max_length
        if len(text) < low:
            text += "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(low - len(text)))
        if high is not None and len(text) > high:
            text = text[-high:] if high >= 6 else hex_token(r, 64)[:high]
        return text

    def _array(self, prop: Property, r: random.Random) -> list[Any]:
        size = r.randint(0, 3)
        if prop.items_enum:
            return [r.choice(prop.items_enum) for _ in range(size)]
        item = prop.items_type or "string"
        if item == "boolean":
            return [r.random() < 0.5 for _ in range(size)]
        if item == "integer":
            return [r.randint(0, 1000) for _ in range(size)]
        if item == "number":
            return [round(r.random() * 100, 2) for _ in range(size)]
        return [f"{prop.name[:12]}_{hex_token(r)}" for _ in range(size)]


def _bounds(prop: Property, where: Where | None) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low_open, high_open) from the dictionary and the test."""
    low, high = prop.minimum, prop.maximum
    low_open = high_open = False
    if where is not None and where.test in ("above", "below"):
        x = float(where.value)
        goes_up = (where.test == "above") == where.want  # value > x, or value >= x
        if goes_up:
            strict = where.want
            if low is None or x > low or (x == low and strict):
                low, low_open = x, strict
        else:
            strict = where.want
            if high is None or x < high or (x == high and strict):
                high, high_open = x, strict
    return low, high, low_open, high_open


def _number(prop: Property, r: random.Random, where: Where | None, money: bool) -> Any:
    low, high, low_open, high_open = _bounds(prop, where)
    if low is None and high is None:
        low, high = (1.0, 200.0) if money else (0.0, 1000.0)
    elif high is None:
        assert low is not None
        high = low + max(200.0 if money else 1000.0, abs(low))
    elif low is None:
        low = 0.0 if high > 0 else high - max(1000.0, abs(high))
    if prop.type == "integer":
        lo = math.floor(low) + 1 if low_open or low != math.floor(low) else int(low)
        hi = math.ceil(high) - 1 if high_open or high != math.ceil(high) else int(high)
        if lo > hi:
            return MISSING
        # Counts are mostly small: a wide range is drawn skewed towards its low end.
        return lo + int((hi - lo + 1) * r.random() ** 3) if hi - lo > 20 else r.randint(lo, hi)
    if low > high or (low == high and (low_open or high_open)):
        return MISSING
    a, b = max(low, 1.0), min(high, 500.0)  # prices: log-uniform, mostly 1 to 500
    if money and b > a * 3:
        value = math.exp(r.uniform(math.log(a), math.log(b)))
    else:
        value = r.uniform(low, high)
    rounded = round(value, 2)
    ok = (rounded > low if low_open else rounded >= low) and (
        rounded < high if high_open else rounded <= high
    )
    return rounded if ok else value


def _formatted(prop: Property, r: random.Random, now_us: int | None) -> str:
    at = _EPOCH + timedelta(microseconds=now_us - 1_767_225_600_000_000) if now_us else None
    at = at or _EPOCH + timedelta(seconds=r.randrange(365 * 86400))
    token = hex_token(r)
    if prop.format == "date-time":
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    if prop.format == "date":
        return at.strftime("%Y-%m-%d")
    if prop.format == "email":
        return f"user_{token}@example.com" if prop.pii else f"user_{token}@localhost"
    if prop.format == "uri":
        return f"https://example.com/{prop.name}/{token}"
    if prop.format == "uuid":
        h = f"{r.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
    return f"{prop.name[:12]}_{token}"
