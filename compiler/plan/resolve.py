"""Resolve the checked raw sections into the immutable `Plan`.

Every cross-reference (to a property, event, category, stage, state or layer) is looked up
while resolving; an unknown name is reported as TP008 at the position of the reference and left
out, so a broken plan still resolves to something the other checks can look at.
"""

from __future__ import annotations

from typing import Any

from compiler.diagnostics import Diagnostic, error
from compiler.plan import model as m
from compiler.plan.resolve_analytics import AnalyticsResolver
from compiler.plan.resolve_events import DictionaryResolver
from compiler.plan.resolve_funnel import FunnelResolver
from compiler.plan.resolve_hazard import HazardResolver
from compiler.plan.resolve_models import ModelsResolver
from compiler.plan.shape import Sections


def resolve(sections: Sections) -> tuple[m.Plan, list[Diagnostic]]:
    """Build the `Plan` from checked sections; report every unresolvable reference."""
    r = DictionaryResolver(sections)
    f = FunnelResolver(sections)
    an = AnalyticsResolver(sections)
    hz = HazardResolver(sections)
    mo = ModelsResolver(sections)
    props = r.properties()
    sets = r.property_sets(props)
    envelope = r.envelope(props)
    events = r.events(props, sets, envelope)
    milestones, states, transitions = f.funnel(events)
    an.roles(envelope)
    churn = an.churn(events)
    revenue = an.revenue(events)
    header: dict[str, Any] = sections.values.get("plan") or {}
    conventions: dict[str, Any] = sections.values.get("conventions") or {}
    if "plan" not in sections.values and not sections.unreadable:
        r.diagnostics.append(error("TP016", "the plan has no 'plan' section (name and version)"))
    name = header.get("name", "unnamed")
    plan = m.Plan(
        name=name,
        version=header.get("version", "0.0.0"),
        description=header.get("description", ""),
        schema_base_uri=header.get("schema_base_uri", "urn:trackplan:"),
        conventions=m.Conventions(
            event_name=conventions.get("event_name", m.Conventions.event_name),
            property_name=conventions.get("property_name", m.Conventions.property_name),
            sdk_properties=tuple(conventions.get("sdk_properties", ())),
        ),
        codegen=an.codegen(name, envelope),
        layers=m.frozen_map(an.layers()),
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
        forecast=an.forecast(states),
        churn=churn,
        revenue=revenue,
        hazard=hz.hazard(states, events, churn),
        synth_profile=an.synth_profile(),
        sequence_rules=m.frozen_map(f.sequence_rules(events)),
        identity=f.identity(events),
        meta=f.meta(events),
        models=mo.models(events, envelope, churn, revenue),
    )
    return plan, r.diagnostics + f.diagnostics + an.diagnostics + hz.diagnostics + mo.diagnostics
