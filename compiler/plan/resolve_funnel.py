"""Resolve the funnel (milestones, states, transitions, churn hazard), the sequence and identity
rules, and the Meta destination."""

from __future__ import annotations

import re

from compiler.diagnostics import error
from compiler.plan import model as m
from compiler.plan.references import References, suggest
from compiler.plan.source import YMap

_TRANSITION = re.compile(r"^(S\d+)\|(S\d+)$")


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
