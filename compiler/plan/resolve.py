"""Resolve the checked raw sections into the immutable `Plan`.

Every cross-reference (to a property, event, category, stage, state or layer) is looked up
here; an unknown name is reported as TP008 at the position of the reference and left out, so a
broken plan still resolves to something the other checks can look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Diagnostic, Location, error, warning
from compiler.plan import model as m
from compiler.plan.shape import Sections
from compiler.plan.source import YList, YMap

_TRANSITION = re.compile(r"^(S\d+)\|(S\d+)$")


def _suggest(name: str, known: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class _Resolver:
    sections: Sections
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def section(self, name: str) -> YMap:
        empty = YMap()
        empty.loc, empty.key_locs, empty.value_locs = Location("", 0, 0), {}, {}
        return self.sections.values.get(name, empty)

    def known(self, names: YList | None, known: Any, what: str) -> tuple[str, ...]:
        """The names of `names` that exist in `known`; TP008 for the others, TP017 for repeats."""
        out: list[str] = []
        for index, name in enumerate(names or ()):
            loc = names.item_loc(index)  # type: ignore[union-attr]
            if name not in known:
                self.diagnostics.append(
                    error("TP008", f"undefined {what} '{name}'{_suggest(name, known)}", loc)
                )
            elif name in out:
                self.diagnostics.append(error("TP017", f"{what} '{name}' is listed twice", loc))
            else:
                out.append(name)
        return tuple(out)

    def ref(self, body: YMap, key: str, known: Any, what: str) -> str | None:
        name = body.get(key)
        if name is None:
            return None
        if name not in known:
            self.diagnostics.append(
                error(
                    "TP008",
                    f"undefined {what} '{name}'{_suggest(name, known)}",
                    body.value_loc(key),
                )
            )
            return None
        return str(name)

    # --- sections -------------------------------------------------------------------------

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
        for name, body in self.section("envelope").items():
            if name not in props:
                self.diagnostics.append(
                    error(
                        "TP008",
                        f"envelope field '{name}' is not in the property dictionary{_suggest(name, props)}",
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

    def funnel(
        self, events: dict[str, m.Event]
    ) -> tuple[dict[str, m.Milestone], tuple[m.FunnelState, ...], tuple[m.Transition, ...]]:
        milestones = {}
        for name, body in self.section("milestones").items():
            event = self.ref(body, "event", events, "event")
            if event:
                milestones[name] = m.Milestone(
                    name, body["title"], event, body.get("first", True), body.get("description", "")
                )
        states = self.states(events)
        return milestones, states, self.transitions({s.id for s in states})

    def states(self, events: dict[str, m.Event]) -> tuple[m.FunnelState, ...]:
        out = []
        raw_states = self.section("states")
        for state_id, body in raw_states.items():
            if not re.fullmatch(r"S\d+", state_id):
                self.diagnostics.append(
                    error("TP009", f"state ids are S0, S1, ...; got '{state_id}'", body.loc)
                )
                continue
            event = self.ref(body, "event", events, "event")
            rule = None
            if "rule" in body:
                rule = self.state_rule(body["rule"], events, raw_states)
            if "event" not in body and "rule" not in body:
                self.diagnostics.append(
                    error(
                        "TP012",
                        f"state {state_id} ({body['name']}) has neither an event nor a rule",
                        body.loc,
                    )
                )
            out.append(
                m.FunnelState(state_id, body["name"], event, rule, body.get("description", ""))
            )
        return tuple(sorted(out, key=lambda s: s.index))

    def state_rule(
        self, body: YMap, events: dict[str, m.Event], states: YMap
    ) -> m.StateRule | None:
        if body["kind"] not in ("active_within", "inactive_for"):
            self.diagnostics.append(
                error(
                    "TP009",
                    f"rule kind must be active_within or inactive_for, got '{body['kind']}'",
                    body.value_loc("kind"),
                )
            )
            return None
        return m.StateRule(
            kind=body["kind"],
            events=self.known(body["events"], events, "event"),
            days=body["days"],
            after=self.ref(body, "after", states, "state"),
            or_events=self.known(body.get("or_events"), events, "event"),
            description=body.get("description", ""),
        )

    def transitions(self, state_ids: set[str]) -> tuple[m.Transition, ...]:
        out = []
        for name, body in self.section("transitions").items():
            match = _TRANSITION.match(name)
            if not match:
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"transition must be written 'S<to>|S<from>', got '{name}'",
                        body.loc,
                    )
                )
                continue
            missing = [s for s in match.groups() if s not in state_ids]
            if missing:
                self.diagnostics.append(
                    error(
                        "TP008", f"undefined state '{missing[0]}' in transition '{name}'", body.loc
                    )
                )
                continue
            if not 0 <= body["rate"] <= 1:
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"rate must be between 0 and 1, got {body['rate']}",
                        body.value_loc("rate"),
                    )
                )
                continue
            out.append(
                m.Transition(
                    name, match[1], match[2], float(body["rate"]), body.get("description", "")
                )
            )
        return tuple(sorted(out, key=lambda t: int(t.to_state[1:])))

    def churn_hazard(self) -> m.ChurnHazard | None:
        body = self.sections.values.get("churn_hazard")
        if body is None:
            return None
        values = {k: v for k, v in body.items()}
        for key, value in values.items():
            if key != "description" and not 0 <= value <= 1:
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"{key} is a probability; it must be between 0 and 1",
                        body.value_loc(key),
                    )
                )
        return m.ChurnHazard(**values)

    def sequence_rules(self, events: dict[str, m.Event]) -> dict[str, m.SequenceRule]:
        out = {}
        for name, body in self.section("sequence_rules").items():
            rule_events = self.known(body["events"], events, "event")
            match_on = body["match_on"]
            if match_on != "person":
                lacking = [
                    e
                    for e in rule_events + self.known(body["requires_before"], events, "event")
                    if events[e].get(match_on) is None
                ]
                if lacking:
                    self.diagnostics.append(
                        error(
                            "TP008",
                            f"match_on '{match_on}' is not a property of event '{lacking[0]}'",
                            body.value_loc("match_on"),
                        )
                    )
            out[name] = m.SequenceRule(
                name=name,
                events=rule_events,
                requires_before=tuple(e for e in body["requires_before"] if e in events),
                match_on=match_on,
                description=body.get("description", ""),
            )
        return out

    def identity(self, events: dict[str, m.Event]) -> m.IdentityRule | None:
        body = self.sections.values.get("identity")
        if body is None:
            return None
        stitch_on = self.ref(body, "stitch_on", events, "event")
        methods = tuple(body.get("methods", ("identify", "alias")))
        for index, method in enumerate(methods):
            if method not in ("identify", "alias"):
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"identity method must be identify or alias, got '{method}'",
                        body["methods"].item_loc(index),
                    )
                )
        return m.IdentityRule(
            stitch_on=stitch_on or "",
            anonymous_prefix=body.get("anonymous_prefix", "anon_"),
            user_prefix=body.get("user_prefix", "usr_"),
            methods=methods,
            user_id_required_after_stitch=body.get("user_id_required_after_stitch", True),
            description=body.get("description", ""),
        )

    def meta(self, events: dict[str, m.Event]) -> m.MetaDestination | None:
        body = self.section("destinations").get("meta")
        if body is None:
            return None
        mappings = []
        for mapping in body["mappings"]:
            mappings.extend(self.meta_mapping(mapping, events))
        return m.MetaDestination(
            tuple(mappings), body.get("action_source", "website"), body.get("description", "")
        )

    def meta_mapping(self, body: YMap, events: dict[str, m.Event]) -> list[m.MetaMapping]:
        name, meta_event = body["event"], body["meta_event"]
        ok = True
        if name not in events:
            self.diagnostics.append(
                error(
                    "TP010",
                    f"Meta mapping names unknown event '{name}'{_suggest(name, events)}",
                    body.value_loc("event"),
                )
            )
            ok = False
        if meta_event not in m.META_STANDARD_EVENTS:
            self.diagnostics.append(
                error(
                    "TP011",
                    f"'{meta_event}' is not a Meta standard event{_suggest(meta_event, m.META_STANDARD_EVENTS)}",
                    body.value_loc("meta_event"),
                )
            )
            ok = False
        for key in ("value", "currency"):
            prop = body.get(key)
            if ok and prop is not None and events[name].get(prop) is None:
                self.diagnostics.append(
                    error(
                        "TP008",
                        f"{key} comes from '{prop}', which is not a property of '{name}'",
                        body.value_loc(key),
                    )
                )
                ok = False
        if not ok:
            return []
        return [
            m.MetaMapping(
                name,
                meta_event,
                body.get("value"),
                body.get("currency"),
                body.get("first_only", False),
                body.get("description", ""),
            )
        ]


def resolve(sections: Sections) -> tuple[m.Plan, list[Diagnostic]]:
    """Build the `Plan` from checked sections; report every unresolvable reference."""
    r = _Resolver(sections)
    props = r.properties()
    sets = r.property_sets(props)
    envelope = r.envelope(props)
    events = r.events(props, sets, envelope)
    milestones, states, transitions = r.funnel(events)
    header = sections.values.get("plan") or {}
    conventions = sections.values.get("conventions") or {}
    if "plan" not in sections.values and not sections.unreadable:
        r.diagnostics.append(error("TP016", "the plan has no 'plan' section (name and version)"))
    plan = m.Plan(
        name=header.get("name", "unnamed"),
        version=header.get("version", "0.0.0"),
        description=header.get("description", ""),
        schema_base_uri=header.get("schema_base_uri", "urn:trackplan:"),
        conventions=m.Conventions(
            event_name=conventions.get("event_name", m.Conventions.event_name),
            property_name=conventions.get("property_name", m.Conventions.property_name),
            sdk_properties=tuple(conventions.get("sdk_properties", ())),
        ),
        layers=m.frozen_map(
            {k: m.Layer(k, v.get("description", "")) for k, v in r.section("layers").items()}
        ),
        categories=m.frozen_map(
            {
                k: m.Category(k, v["title"], v.get("description", ""))
                for k, v in r.section("categories").items()
            }
        ),
        properties=m.frozen_map(dict(sorted(props.items()))),
        envelope=envelope,
        events=m.frozen_map(events),
        deprecated_events=m.frozen_map(r.deprecated_events(events)),
        stages=m.frozen_map(
            {
                k: m.Stage(k, v["title"], v.get("description", ""))
                for k, v in r.section("stages").items()
            }
        ),
        milestones=m.frozen_map(milestones),
        states=states,
        transitions=transitions,
        churn_hazard=r.churn_hazard(),
        sequence_rules=m.frozen_map(r.sequence_rules(events)),
        identity=r.identity(events),
        meta=r.meta(events),
    )
    return plan, r.diagnostics


__all__ = ["resolve", "warning"]
