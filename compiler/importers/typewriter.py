"""Read a typewriter / Segment Protocols `plan.json` into typed rules (load and check; pure).

Two shapes exist, both read by typewriter (`src/api/trackingplans.ts`, v8):

- Public API v2: `{name, description, rules: [{key, type, description?, labels?, version,
  jsonSchema}]}`. As the API returns it, a TRACK rule's `jsonSchema` wraps the event
  (`properties: {context, traits, properties: {type: object, properties, required}}`); the file
  typewriter writes back is unwrapped (it carries `jsonSchema.eventMetadata`, and
  `jsonSchema.properties` are the event's own).
- Config API v1: `{name, display_name, rules: {events: [{name, description, rules, version}],
  identify_traits?, group_traits?, global?}}`, the `rules` wrapped as above; typewriter converts
  each event to a TRACK rule and ignores the rest.

Anything else is a `PlanFileError` (exit 2), with file:line:col for JSON that does not parse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRACK = "TRACK"
RULE_TYPES = ("TRACK", "IDENTIFY", "GROUP", "PAGE", "SCREEN", "COMMON")
HANDLED = frozenset(
    ("properties", "required", "type", "eventMetadata", "labels", "$schema", "id", "$id")
    + ("description", "title")
)
V1_EXTRAS = ("identify_traits", "group_traits", "global", "identify", "group")


class PlanFileError(Exception):
    """The file cannot be read as a typewriter plan: one line naming the file and the place."""


@dataclass
class Rule:
    """One rule: its event's own properties schema, unwrapped as typewriter unwraps it."""

    key: str
    type: str
    version: int | None
    description: str
    where: str  # JSON path of the rule in the file, for messages: rules[3]
    properties: dict[str, Any]
    required: list[str]
    extras: dict[str, Any] = field(default_factory=dict)  # context/traits/labels, not mapped
    object_keywords: dict[str, Any] = field(default_factory=dict)  # additionalProperties, ...


@dataclass
class TypewriterPlan:
    name: str
    description: str
    format: str  # "Public API v2" or "Config API v1"
    rules: list[Rule]
    extras: dict[str, Any] = field(default_factory=dict)  # v1 identify/group/global rules


def read(path: Path) -> Any:
    """The JSON document in `path`; PlanFileError with line and column when it does not parse."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PlanFileError(
            f"{path}:{line}:{col}: not UTF-8: byte 0x{data[exc.start]:02x}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise PlanFileError(f"{path}: invalid JSON: nested too deeply") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlanFileError(f"{where}: expected a JSON object, found {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PlanFileError(f"{where}: expected a string, found {_kind(value)}")
    return value


def _version(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanFileError(f"{where}: expected a whole number, found {_kind(value)}")
    return value


def _trivial(schema: Any) -> bool:
    """An empty rule: `{}` or `{"type": "object"}` with no properties or required names."""
    if not isinstance(schema, dict):
        return False
    rest = {k: v for k, v in schema.items() if k not in ("type", "id", "$id", "description")}
    return schema.get("type", "object") == "object" and not any(rest.values())


def _unwrap(schema: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the event's own properties schema, the non-trivial context/traits rules beside it)."""
    if "eventMetadata" in schema:  # written back by typewriter: already unwrapped
        return schema, {}
    outer = _object(schema.get("properties", {}), f"{where}.properties")
    inner = _object(outer.get("properties", {}), f"{where}.properties.properties")
    extras = {k: v for k, v in outer.items() if k != "properties" and not _trivial(v)}
    return inner, extras


def _rule(raw: Any, where: str, key_name: str, schema_name: str, rule_type: Any) -> Rule:
    body = _object(raw, where)
    key = body.get(key_name)
    if not isinstance(key, str) or not key.strip():
        raise PlanFileError(f"{where}: the rule has no `{key_name}` (the event's name)")
    kind = _text(rule_type, f"{where}.type") or TRACK
    if kind not in RULE_TYPES:
        raise PlanFileError(
            f"{where}.type: unknown rule type '{kind}' (expected one of: {', '.join(RULE_TYPES)})"
        )
    schema = _object(body.get(schema_name) or {}, f"{where}.{schema_name}")
    own, extras = _unwrap(schema, f"{where}.{schema_name}")
    props = _object(own.get("properties", {}), f"{where}.{schema_name}.properties")
    required = own.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise PlanFileError(f"{where}.{schema_name}: `required` is not a list of names")
    for label in ("labels",):
        if body.get(label) or schema.get(label):
            extras[label] = body.get(label) or schema.get(label)
    keywords = {k: v for k, v in own.items() if k not in HANDLED}
    return Rule(
        key,
        kind,
        _version(body.get("version"), f"{where}.version"),
        _text(body.get("description") or schema.get("description"), f"{where}.description"),
        where,
        props,
        list(required),
        extras,
        keywords,
    )


def parse(doc: Any, path: Path) -> TypewriterPlan:
    """The typed plan in a decoded `plan.json`; PlanFileError when it is not a typewriter plan."""
    top = str(path)
    if not isinstance(doc, dict) or "rules" not in doc:
        raise PlanFileError(
            f"{top}: not a typewriter plan: expected an object with `rules` (a list of rules, "
            f"or {{events: [...]}}), found {_kind(doc) if not isinstance(doc, dict) else 'none'}"
        )
    rules = doc["rules"]
    if isinstance(rules, list):
        parsed = [
            _rule(r, f"{top}: rules[{i}]", "key", "jsonSchema", _field(r, "type"))
            for i, r in enumerate(rules)
        ]
        name = _text(doc.get("name"), f"{top}: name")
        return TypewriterPlan(name, _text(doc.get("description"), top), "Public API v2", parsed)
    if isinstance(rules, dict) and isinstance(rules.get("events"), list):
        parsed = [
            _rule(r, f"{top}: rules.events[{i}]", "name", "rules", TRACK)
            for i, r in enumerate(rules["events"])
        ]
        extras = {k: rules[k] for k in V1_EXTRAS if rules.get(k) and not _trivial(rules[k])}
        name = _text(doc.get("display_name") or doc.get("name"), f"{top}: display_name")
        return TypewriterPlan(name, "", "Config API v1", parsed, extras)
    raise PlanFileError(
        f"{top}: not a typewriter plan: `rules` is {_kind(rules)}; expected a list of rules "
        "(Public API v2) or an object with an `events` list (Config API v1)"
    )


def _field(raw: Any, key: str) -> Any:
    return raw.get(key) if isinstance(raw, dict) else None


def load(path: Path) -> TypewriterPlan:
    """Read and parse `path`."""
    return parse(read(path), path)
