"""Resolve the property dictionary, property sets, the envelope and the events."""

from __future__ import annotations

import re
from typing import Any

from compiler.diagnostics import error
from compiler.plan import model as m
from compiler.plan.model_analytics import ENVELOPE_ROLES
from compiler.plan.references import References, suggest
from compiler.plan.source import YMap

SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")

# A field named like a role plays it unless another field claims that role explicitly.
IMPLICIT_ROLES = {
    "event": "event_name",
    "uuid": "event_id",
    **{r: r for r in ENVELOPE_ROLES if r not in ("event_name", "event_id")},
}


class DictionaryResolver(References):

    def properties(self) -> dict[str, m.Property]:
        out = {}
        for name, body in self.section("properties").items():
            out[name] = m.Property(
                name=name,
                type=body["type"],
                description=body.get("description", ""),
                nullable=body.get("nullable", False),
                enum=tuple(body["enum"]) if "enum" in body else None,
                minimum=body.get("minimum"),
                maximum=body.get("maximum"),
                min_length=body.get("min_length"),
                max_length=body.get("max_length"),
                format=body.get("format"),
                pattern=body.get("pattern"),
                unit=body.get("unit"),
                pii=body.get("pii", False),
                deprecated=body.get("deprecated", False),
                replaced_by=body.get("replaced_by"),
                items_type=body["items"]["type"] if "items" in body else None,
                items_enum=(
                    tuple(body["items"]["enum"]) if "enum" in body.get("items", {}) else None
                ),
                examples=tuple(body.get("examples", ())),
                location=body.loc,
            )
        for name, body in out.items():
            if body.replaced_by is not None and body.replaced_by not in out:
                raw = self.section("properties")[name]
                self.ref(raw, "replaced_by", out, "property")
        return out

    def property_sets(
        self, props: dict[str, m.Property]
    ) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        out = {}
        for name, body in self.section("property_sets").items():
            required = self.known(body.get("required"), props, "property")
            optional = self.known(body.get("optional"), props, "property")
            out[name] = (required, optional)
        return out

    def envelope(self, props: dict[str, m.Property]) -> tuple[m.EnvelopeField, ...]:
        out = []
        section = self.section("envelope")
        explicit = {body.get("role") for body in section.values()}
        for name, body in section.items():
            role = body.get("role")
            if role is not None and role not in ENVELOPE_ROLES:
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"role must be one of {', '.join(ENVELOPE_ROLES)}, got '{role}'"
                        f"{suggest(role, ENVELOPE_ROLES)}",
                        body.value_loc("role"),
                    )
                )
                role = None
            elif role is None and IMPLICIT_ROLES.get(name) not in explicit:
                role = IMPLICIT_ROLES.get(name)
            if name not in props:
                self.diagnostics.append(
                    error(
                        "TP008",
                        f"envelope field '{name}' is not in the property dictionary{suggest(name, props)}",
                        body.loc,
                    )
                )
                continue
            if body["placement"] not in m.PLACEMENTS:
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"placement must be one of {', '.join(m.PLACEMENTS)}, got '{body['placement']}'",
                        body.value_loc("placement"),
                    )
                )
                continue
            out.append(
                m.EnvelopeField(
                    property=props[name],
                    placement=body["placement"],
                    required=body["required"],
                    description=body.get("description", "") or props[name].description,
                    posthog_name=body.get("posthog_name"),
                    role=role,
                )
            )
        return tuple(out)

    def events(
        self,
        props: dict[str, m.Property],
        sets: dict[str, Any],
        envelope: tuple[m.EnvelopeField, ...],
    ) -> dict[str, m.Event]:
        categories, layers, stages = (self.section(s) for s in ("categories", "layers", "stages"))
        envelope_names = {f.name for f in envelope}
        out = {}
        for name, body in sorted(self.section("events").items()):
            category = self.ref(body, "category", categories, "category")
            required = list(self.known(body.get("required"), props, "property"))
            optional = list(self.known(body.get("optional"), props, "property"))
            for set_name in self.known(body.get("include"), sets, "property set"):
                required += [p for p in sets[set_name][0] if p not in required]
                optional += [p for p in sets[set_name][1] if p not in optional]
            for index, prop in enumerate(body.get("optional") or ()):
                if prop in required and prop in (body.get("required") or ()):
                    self.diagnostics.append(
                        error(
                            "TP017",
                            f"property '{prop}' is both required and optional",
                            body["optional"].item_loc(index),
                        )
                    )
            optional = [p for p in optional if p not in required]
            out[name] = m.Event(
                name=name,
                category=category or "",
                description=body.get("description", ""),
                trigger=body.get("trigger", ""),
                owner=body.get("owner", ""),
                version=self.version(body),
                layers=self.known(body.get("layers"), layers, "layer"),
                stages=self.known(body.get("stages"), stages, "stage"),
                properties=tuple(m.EventProperty(props[p], True) for p in required)
                + tuple(m.EventProperty(props[p], False) for p in optional),
                envelope_required=self.known(
                    body.get("envelope_required"), envelope_names, "envelope field"
                ),
                location=body.loc,
            )
        return out

    def version(self, body: YMap) -> str:
        """The event's `version`, MAJOR.MINOR.PATCH (TP023 and the default when it is not one)."""
        value = body.get("version")
        if value is None:
            return m.DEFAULT_EVENT_VERSION
        if isinstance(value, str) and SEMVER.fullmatch(value):
            return value
        shown = f"'{value}'" if isinstance(value, str) else f"the number {value}"
        self.diagnostics.append(
            error(
                "TP023",
                f"version must be MAJOR.MINOR.PATCH, like 1.0.0 or 2.1.0, got {shown}",
                body.value_loc("version"),
            )
        )
        return m.DEFAULT_EVENT_VERSION

    def deprecated_events(self, events: dict[str, m.Event]) -> dict[str, m.DeprecatedEvent]:
        out = {}
        for name, body in sorted(self.section("deprecated_events").items()):
            if name in events:
                self.diagnostics.append(
                    error(
                        "TP007", f"'{name}' is both an event and a deprecated event name", body.loc
                    )
                )
            target = self.ref(body, "replaced_by", events, "event")
            if target:
                out[name] = m.DeprecatedEvent(name, target, body.get("description", ""))
        return out
