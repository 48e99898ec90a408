"""Resolve the checked raw sections into the immutable `Plan`.

Every cross-reference (to a property, event, category, stage, state or layer) is looked up
while resolving; an unknown name is reported as TP008 at the position of the reference and left
out, so a broken plan still resolves to something the other checks can look at.
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, error
from compiler.plan import model as m
from compiler.plan.resolve_events import DictionaryResolver
from compiler.plan.resolve_funnel import FunnelResolver
from compiler.plan.shape import Sections


def resolve(sections: Sections) -> tuple[m.Plan, list[Diagnostic]]:
    """Build the `Plan` from checked sections; report every unresolvable reference."""
    r = DictionaryResolver(sections)
    f = FunnelResolver(sections)
    props = r.properties()
    sets = r.property_sets(props)
    envelope = r.envelope(props)
    events = r.events(props, sets, envelope)
    milestones, states, transitions = f.funnel(events)
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
        churn_hazard=f.churn_hazard(),
        sequence_rules=m.frozen_map(f.sequence_rules(events)),
        identity=f.identity(events),
        meta=f.meta(events),
    )
    return plan, r.diagnostics + f.diagnostics
