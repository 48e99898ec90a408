"""Property-based: what synth draws for a property satisfies the property's definition.

The check is independent of synth's own: the property's JSON Schema (the jsonschema target, as
the reference audit engine validates it, with the audit's format checks) and the audit's pii
patterns. Properties are random definitions: every type, enums, ranges, lengths, formats, and
patterns built from a small regex grammar (classes, repeats, alternations, anchors).
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.audit.reference import format_checker
from compiler.audit.rules import EMAIL_LIKE, PHONE_LIKE
from compiler.plan.model import FORMATS, Property
from compiler.synth.regex import RegexGen
from compiler.synth.values import MISSING, Values, Where
from compiler.targets.jsonschema import property_schema

CLASSES = ["[a-z]", "[A-Z]", "[0-9]", "[0-9a-f]", "[A-Z0-9]", r"\d", r"\w", "[a-z_]", "[^@ ]"]
QUANTIFIERS = ["", "{3}", "{2,5}", "+", "?", "*", "{1,}"]
LITERALS = ["ord_", "cus_", "x", "-", r"\.", "_", "AB"]
ALPHABET = "abcdefghijklmnopqrstuvwxyz_0123456789 "


@st.composite
def patterns(draw: st.DrawFn) -> str:
    def piece() -> str:
        kind = draw(st.sampled_from(["class", "literal", "group"]))
        if kind == "literal":
            return draw(st.sampled_from(LITERALS))
        if kind == "group":
            arms = draw(st.lists(st.sampled_from(LITERALS + CLASSES), min_size=2, max_size=3))
            return "(" + "|".join(arms) + ")" + draw(st.sampled_from(["", "?", "{2}"]))
        return draw(st.sampled_from(CLASSES)) + draw(st.sampled_from(QUANTIFIERS))

    body = "".join(piece() for _ in range(draw(st.integers(1, 4))))
    start, end = draw(st.sampled_from([("^", "$"), ("^", ""), ("", "$"), ("", "")]))
    return start + body + end


@st.composite
def properties(draw: st.DrawFn) -> Property:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "array"]))
    fields: dict[str, Any] = {"nullable": draw(st.booleans()), "pii": draw(st.booleans())}
    if kind in ("integer", "number"):
        low = draw(st.none() | st.integers(-1000, 1000))
        high = draw(st.none() | st.integers(-1000, 1000))
        if low is not None and high is not None and low > high:
            low, high = high, low
        fields |= {"minimum": low, "maximum": high}
    elif kind == "string":
        shape = draw(st.sampled_from(["enum", "pattern", "format", "plain"]))
        if shape == "enum":
            fields["enum"] = tuple(
                draw(st.lists(st.text(ALPHABET, min_size=1), min_size=1, max_size=4))
            )
        elif shape == "pattern":
            fields["pattern"] = draw(patterns())
        elif shape == "format":
            fields["format"] = draw(st.sampled_from(FORMATS))
        else:
            low = draw(st.none() | st.integers(0, 20))
            high = draw(st.none() | st.integers(max(low or 0, 1), 40))
            fields |= {"min_length": low, "max_length": high}
    elif kind == "array":
        fields["items_type"] = draw(st.sampled_from(["string", "integer", "number", "boolean"]))
    return Property(
        name=draw(st.sampled_from(["amount", "ref", "x", "label_name"])), type=kind, **fields
    )


def _schema_ok(prop: Property, value: Any) -> bool:
    validator = jsonschema.Draft202012Validator(
        property_schema(prop), format_checker=format_checker()
    )
    return validator.is_valid(value)


def _pii_like(value: Any) -> bool:
    return isinstance(value, str) and bool(
        re.search(EMAIL_LIKE, value) or re.search(PHONE_LIKE, value)
    )


@settings(max_examples=300, deadline=None)
@given(prop=properties(), seed=st.integers(0, 2**32))
def test_drawn_values_satisfy_the_dictionary(prop: Property, seed: int) -> None:
    values, r = Values(), random.Random(seed)
    for _ in range(5):
        value = values.draw(prop, r)
        assert value is not MISSING, prop
        assert _schema_ok(prop, value), (prop, value)
        if not prop.pii:
            assert not _pii_like(value), (prop, value)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["integer", "number"]),
    low=st.none() | st.integers(-100, 100),
    span=st.integers(0, 200),
    test=st.sampled_from(["above", "below", "equals"]),
    at=st.integers(-150, 150),
    want=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_a_covariate_test_is_passed_or_failed_on_demand(
    kind: str, low: int | None, span: int, test: str, at: int, want: bool, seed: int
) -> None:
    high = None if low is None else low + span
    prop = Property(name="amount", type=kind, minimum=low, maximum=high)
    where = Where(test, at, want)
    value = Values().draw(prop, random.Random(seed), where)
    # Independently: is there a value in [low, high] (whole numbers for integer) that does it?
    lo = -math.inf if low is None else low
    hi = math.inf if high is None else high
    if test == "equals":
        possible = (lo <= at <= hi) if want else not (lo == hi == at)
    elif (test == "above") == want:  # value > at (want above) or value >= at (not below)
        possible = hi > at if want else hi >= at
    else:  # value <= at (not above) or value < at (want below)
        possible = lo <= at if not want else lo < at
    if value is MISSING:
        assert not possible, (prop, where)
        return
    assert possible and _schema_ok(prop, value), (prop, where, value)
    assert where.passes(value) == want, (prop, where, value)


@settings(max_examples=400, deadline=None)
@given(pattern=patterns(), seed=st.integers(0, 2**32))
def test_regex_samples_match(pattern: str, seed: int) -> None:
    gen, r = RegexGen(pattern), random.Random(seed)
    assert gen.program is not None, pattern
    for _ in range(5):
        text = gen.sample(r)
        assert text is not None and re.search(pattern, text), (pattern, text)
        if pattern.startswith("^") and pattern.endswith("$"):
            assert re.fullmatch(pattern[1:-1], text), (pattern, text)


def test_regex_samples_vary_and_unsupported_patterns_fall_back() -> None:
    r = random.Random(1)
    orders = {RegexGen("^ord_[0-9a-f]{8}$").sample(r) for _ in range(200)}
    assert len(orders) == 200 and all(re.fullmatch(r"ord_[0-9a-f]{8}", o or "") for o in orders)
    codes = {RegexGen("^[A-Z]{3}$").sample(r) for _ in range(200)}
    assert len(codes) > 150
    # A lookahead is not generated, only checked: samples that fail it are drawn again.
    assert all(not (RegexGen("^(?!x)[a-z]$").sample(r) or "x").startswith("x") for _ in range(50))
    # A conditional group is not supported: None, and values.py falls back or reports MISSING.
    assert RegexGen(r"^(a)?(?(1)b|c)$").sample(r) is None
