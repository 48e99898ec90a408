"""Resolve the funnel (milestones, states, transitions, churn hazard), the sequence and identity
rules, and the Meta destination."""

from __future__ import annotations

import re
from dataclasses import replace

from compiler.diagnostics import error
from compiler.plan import model as m
from compiler.plan.references import References, suggest
from compiler.plan.source import YMap

_STATE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_TRANSITION = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\|([A-Za-z][A-Za-z0-9_]*)$")


class FunnelResolver(References):
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
        return milestones, states, self.transitions({s.id: s.index for s in states})

    def states(self, events: dict[str, m.Event]) -> tuple[m.FunnelState, ...]:
        out = []
        raw_states = self.section("states")
        for state_id, body in raw_states.items():
            if not _STATE_ID.match(state_id):
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"state id '{state_id}' must start with a letter and hold only "
                        "letters, digits and '_'",
                        body.loc,
                    )
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
        # The chain (states marked by an event) in plan order, then the rule states.
        ordered = [s for s in out if s.rule is None] + [s for s in out if s.rule is not None]
        return tuple(replace(s, index=i) for i, s in enumerate(ordered))

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

    def transitions(self, state_ids: dict[str, int]) -> tuple[m.Transition, ...]:
        out = []
        for name, body in self.section("transitions").items():
            match = _TRANSITION.match(name)
            if not match:
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"transition must be written 'TO|FROM' with two state ids, got '{name}'",
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
            rate = body.get("rate")
            if rate is not None and not 0 <= rate <= 1:
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"rate must be between 0 and 1, got {rate}",
                        body.value_loc("rate"),
                    )
                )
                continue
            out.append(
                m.Transition(
                    name,
                    match[1],
                    match[2],
                    None if rate is None else float(rate),
                    body.get("description", ""),
                    body.get("alias"),
                )
            )
        aliases: dict[str, str] = {}
        for t in out:
            if t.alias is None:
                continue
            if t.alias in aliases or t.alias in state_ids:
                body = self.section("transitions")[t.name]
                self.diagnostics.append(
                    error("TP017", f"alias '{t.alias}' is used twice", body.value_loc("alias"))
                )
            aliases[t.alias] = t.name
        return tuple(sorted(out, key=lambda t: (state_ids[t.to_state], state_ids[t.from_state])))

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
        consent = body.get("consent_property")
        if consent is not None:
            prop = self.sections.values.get("properties", {}).get(consent)
            if prop is None:
                self.diagnostics.append(
                    error(
                        "TP008",
                        f"undefined property '{consent}'",
                        body.value_loc("consent_property"),
                    )
                )
                consent = None
            elif prop.get("type") != "boolean":
                self.diagnostics.append(
                    error(
                        "TP009",
                        f"consent_property '{consent}' must be a boolean property",
                        body.value_loc("consent_property"),
                    )
                )
                consent = None
        return m.MetaDestination(
            tuple(mappings),
            body.get("action_source", "website"),
            body.get("description", ""),
            consent,
            body.get("click_id_property", "fbclid"),
        )

    def meta_mapping(self, body: YMap, events: dict[str, m.Event]) -> list[m.MetaMapping]:
        name, meta_event = body["event"], body["meta_event"]
        ok = True
        if name not in events:
            self.diagnostics.append(
                error(
                    "TP010",
                    f"Meta mapping names unknown event '{name}'{suggest(name, events)}",
                    body.value_loc("event"),
                )
            )
            ok = False
        if meta_event not in m.META_STANDARD_EVENTS:
            self.diagnostics.append(
                error(
                    "TP011",
                    f"'{meta_event}' is not a Meta standard event{suggest(meta_event, m.META_STANDARD_EVENTS)}",
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
