"""One JSON Schema (draft-04..07, as Segment writes them) property -> a plan property (pure).

`map_property` returns the `PropertyGuess` (None when the plan cannot hold the property at all)
and the reasons for everything that did not map. A schema that is not valid JSON Schema (an
unknown type name, a `required` that is not a list) is a `SchemaError`: the input is broken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from compiler.infer.guess import PropertyGuess
from compiler.plan.checks import _re2_error
from compiler.plan.model import FORMATS, SCALAR_TYPES

JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
ANNOTATIONS = frozenset(
    ("id", "$id", "$schema", "$comment", "description", "title", "default", "examples")
    + ("readOnly", "writeOnly", "deprecated")
)
UNIONS = ("anyOf", "oneOf", "allOf", "not", "if", "$ref")
BY_TYPE = {
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "string": ("minLength", "maxLength", "pattern", "format", "contentEncoding"),
    "array": ("items", "minItems", "maxItems", "uniqueItems", "contains", "additionalItems"),
    "object": ("properties", "required", "additionalProperties", "patternProperties")
    + ("minProperties", "maxProperties", "dependencies", "propertyNames"),
}
BOTH = ("type", "enum", "const")
PY = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


class SchemaError(Exception):
    """A property schema that is not JSON Schema: names the rule and the property."""


@dataclass
class Mapped:
    prop: PropertyGuess | None  # None: left out (the plan cannot hold it)
    lost: list[str] = field(default_factory=list)  # what did not map, in words


def _types(schema: dict[str, Any], where: str) -> list[str]:
    raw = schema.get("type")
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
    if raw is None:
        return []
    if names is None or not all(isinstance(n, str) for n in names):
        raise SchemaError(f"{where}: `type` must be a type name or a list of them")
    unknown = [n for n in names if n not in JSON_TYPES]
    if unknown:
        raise SchemaError(
            f"{where}: unknown type '{unknown[0]}' (JSON Schema has: {', '.join(JSON_TYPES)})"
        )
    return list(dict.fromkeys(names))


def _of_type(value: Any, kind: str) -> bool:
    return isinstance(value, PY[kind]) and (kind == "boolean" or not isinstance(value, bool))


def _enum(schema: dict[str, Any], where: str) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" not in schema:
        return None
    values = schema["enum"]
    if not isinstance(values, list):
        raise SchemaError(f"{where}: `enum` must be a list")
    return values


def _plain_type(types: list[str], values: list[Any] | None) -> tuple[str | None, str | None]:
    """(the one plan type, or None and why not), for the non-null JSON types listed."""
    rest = [t for t in types if t != "null"]
    if not rest and values:  # an enum without a type: its values say
        kinds = {next((k for k in SCALAR_TYPES if _of_type(v, k)), "") for v in values}
        kinds.discard("")
        rest = sorted(kinds) if kinds else []
    if set(rest) == {"integer", "number"}:
        return "number", None
    if not rest:
        return None, "no type: any JSON value, and the plan has no 'any' type"
    if len(rest) > 1:
        return None, f"a union of types ({' | '.join(rest)}): a plan property has one type"
    if rest[0] == "object":
        return None, "an object: the plan format has no object type (PostHog keeps it nested)"
    return rest[0], None


def map_property(name: str, schema: Any, where: str) -> Mapped:
    """The plan property for `schema` (see the module docstring)."""
    if schema is True or schema == {}:
        return Mapped(None, ["no rule: any JSON value, and the plan has no 'any' type"])
    if not isinstance(schema, dict):
        raise SchemaError(f"{where}: a property schema must be an object")
    unions = [k for k in UNIONS if k in schema]
    if unions:
        return Mapped(None, [f"`{unions[0]}`: unions and references have no plan equivalent"])
    types = _types(schema, where)
    values = _enum(schema, where)
    kind, why = _plain_type(types, values)
    if kind is None:
        return Mapped(None, [_object_detail(why or "", schema)])
    lost: list[str] = []
    if len(set(types) - {"null"}) > 1:
        lost.append("integer or number: written as number")
    described = schema.get("description") or schema.get("title")
    prop = PropertyGuess(name, kind, 0, description=described if isinstance(described, str) else "")
    prop.nullable = "null" in types or (not types and values is not None and None in values)
    if values is not None:
        _set_enum(prop, [v for v in values if v is not None], kind, lost)
    if kind == "array":
        if not _items(prop, schema.get("items"), f"{where}.items", lost):
            return Mapped(None, lost)
    elif kind in ("integer", "number"):
        _bounds(prop, schema, lost)
    elif kind == "string":
        _text(prop, schema, lost)
    _ignored(schema, kind, lost)
    return Mapped(prop, lost)


def _object_detail(why: str, schema: dict[str, Any]) -> str:
    nested = schema.get("properties")
    if why.startswith("an object") and isinstance(nested, dict) and nested:
        shown = ", ".join(sorted(nested)[:5]) + (" ..." if len(nested) > 5 else "")
        return f"{why}; nested properties: {shown}"
    return why


def _set_enum(prop: PropertyGuess, values: list[Any], kind: str, lost: list[str]) -> None:
    scalar = kind if kind in PY else None
    kept = [v for v in values if scalar is None or _of_type(v, scalar)]
    if kind == "array" or any(isinstance(v, dict | list) for v in kept):
        lost.append("an enum of arrays or objects: not mapped")
        return
    if len(kept) < len(values):
        lost.append(f"enum values not of type {kind} dropped (JSON Schema never accepts them)")
    if kept:
        prop.enum = list(dict.fromkeys(kept))


def _items(prop: PropertyGuess, items: Any, where: str, lost: list[str]) -> bool:
    """Fill the array's item type; False (with the reason in `lost`) when the plan cannot."""
    if not isinstance(items, dict) or not any(k in items for k in BOTH):
        what = "a list (tuple validation)" if isinstance(items, list) else "no item type"
        lost.append(f"an array with {what}: the plan needs `items` with a scalar type")
        return False
    types = _types(items, where)
    values = _enum(items, where)
    kind, why = _plain_type(types, values)
    if kind is None or kind == "array":
        rest = [t for t in types if t != "null"]
        what = "arrays" if kind == "array" else "objects" if rest == ["object"] else "any value"
        what = "mixed types" if len(rest) > 1 else what
        lost.append(f"an array of {what}: the plan's array items must have a scalar type")
        return False
    prop.items_type = kind
    if "null" in types:
        lost.append("items may be null: the plan's items cannot (null items now fail)")
    if values is not None:
        kept = [v for v in values if v is not None and _of_type(v, kind)]
        prop.items_enum = list(dict.fromkeys(kept)) or None
    extra = sorted(k for k in items if k not in ANNOTATIONS and k not in BOTH)
    if extra:
        lost.append(f"item rules not mapped: {', '.join(extra)}")
    return True


def _bounds(prop: PropertyGuess, schema: dict[str, Any], lost: list[str]) -> None:
    for key, exclusive, step in (
        ("minimum", "exclusiveMinimum", 1),
        ("maximum", "exclusiveMaximum", -1),
    ):
        value: Any = schema.get(key)
        strict: Any = schema.get(exclusive)
        if isinstance(strict, bool):  # draft-04: a flag on minimum / maximum
            strict, value = (value, None) if strict else (None, value)
        bounds: list[float] = [value] if _number(value) else []
        approximate = False
        if _number(strict):
            exact = prop.type == "integer" and float(strict).is_integer()
            bounds.append(int(strict) + step if exact else strict)  # exact for whole numbers
            approximate = not exact
        if not bounds:
            continue
        bound = max(bounds) if step > 0 else min(bounds)
        setattr(prop, key, bound)
        if approximate and bound == strict and not (_number(value) and value == strict):
            lost.append(f"{exclusive} {strict}: written as the inclusive {key} {strict}")
    if "multipleOf" in schema:
        lost.append(f"multipleOf {schema['multipleOf']}: the plan has no step")


def _number(value: Any) -> bool:
    good = isinstance(value, int | float) and not isinstance(value, bool)
    return good and math.isfinite(value)


def _text(prop: PropertyGuess, schema: dict[str, Any], lost: list[str]) -> None:
    for key, attr in (("minLength", "min_length"), ("maxLength", "max_length")):
        value = schema.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            setattr(prop, attr, value)
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        reason = _re2_error(pattern)
        if reason is None:
            prop.pattern = pattern
        else:
            lost.append(f"pattern {pattern!r} is not RE2 ({reason}): left out")
    fmt = schema.get("format")
    if isinstance(fmt, str):
        if fmt in FORMATS:
            prop.format = fmt
        if fmt in ("email", "idn-email"):
            prop.pii = True  # declared personal data: the audit's pii_leak check skips it
            prop.notes.append("pii: true, from format email")
        else:
            lost.append(f"format '{fmt}': the plan knows {', '.join(FORMATS)}")


def _ignored(schema: dict[str, Any], kind: str, lost: list[str]) -> None:
    mapped = set(BOTH) | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    mapped |= {"minLength", "maxLength", "pattern", "format", "items", "multipleOf"}
    other = [k for k in BY_TYPE.get(kind, ()) if k in schema and k not in mapped]
    unknown = [k for k in schema if k not in ANNOTATIONS and k not in mapped]
    unknown = [k for k in unknown if all(k not in keys for keys in BY_TYPE.values())]
    if other or unknown:
        lost.append(f"rules not mapped: {', '.join(sorted(other + unknown))}")
