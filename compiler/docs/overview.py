"""View models of the site-wide pages: home, the property index, Meta mapping and glossary."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.docs.funnel import Diagram, diagram, stage_classes
from compiler.docs.health import EventHealth, Finding, Health
from compiler.docs.profile import Transition
from compiler.docs.views import Link, event_href, property_href, type_label
from compiler.plan.model import MetaMapping, Plan


@dataclass(frozen=True)
class EventCard:
    link: Link
    description: str
    health: EventHealth | None


@dataclass(frozen=True)
class CategorySection:
    name: str
    title: str
    description: str
    events: tuple[EventCard, ...]


@dataclass(frozen=True)
class Term:
    """One glossary or legend entry."""

    anchor: str
    title: str
    name: str
    description: str
    css_class: str
    links: tuple[Link, ...]
    links_label: str = "Events"


@dataclass(frozen=True)
class HealthSummary:
    source: str
    rows_total: int
    rows_unparseable: int
    summary: tuple[tuple[str, int], ...]
    worst: tuple[EventHealth, ...]  # events with violations, most rows first
    unplanned: tuple[Finding, ...]
    persons: int | None  # distinct persons on plan events; None without --export
    days: int | None  # UTC days the exports span


@dataclass(frozen=True)
class HomePage:
    categories: tuple[CategorySection, ...]
    event_count: int
    property_count: int
    diagrams: tuple[Diagram, ...]  # wide, then narrow
    stages: tuple[Term, ...]
    milestones: tuple[Term, ...]
    health: HealthSummary | None
    observed: tuple[Transition, ...]  # the funnel steps as the exports show them (--export)


@dataclass(frozen=True)
class PropertyEntry:
    link: Link
    type: str
    description: str
    uses: int
    deprecated: bool


@dataclass(frozen=True)
class MetaRow:
    mapping: MetaMapping
    event: Link


@dataclass(frozen=True)
class GlossaryPage:
    stages: tuple[Term, ...]
    milestones: tuple[Term, ...]
    categories: tuple[Term, ...]
    layers: tuple[Term, ...]
    deprecated_events: tuple[Term, ...]
    identity: tuple[tuple[str, str], ...]


def _health_summary(plan: Plan, health: Health) -> HealthSummary:
    worst = sorted(
        (h for h in health.events.values() if h.event in plan.events and h.status != "healthy"),
        key=lambda h: (-h.rows_with_violations, -sum(f.count for f in h.findings), h.event),
    )
    return HealthSummary(
        health.source,
        health.rows_total,
        health.rows_unparseable,
        health.summary,
        tuple(worst),
        health.unplanned,
        health.profile.persons if health.profile else None,
        health.profile.days if health.profile else None,
    )


def stage_terms(plan: Plan, root: str) -> tuple[Term, ...]:
    classes = stage_classes(plan)
    return tuple(
        Term(
            f"stage-{s.name}",
            s.title,
            s.name,
            s.description,
            classes[s.name],
            tuple(
                Link(e.name, event_href(root, e.name))
                for e in plan.events.values()
                if s.name in e.stages
            ),
        )
        for s in plan.stages.values()
    )


def milestone_terms(plan: Plan, root: str) -> tuple[Term, ...]:
    states = {s.event: s.name for s in plan.chain}
    return tuple(
        Term(
            f"milestone-{m.name}",
            m.title,
            states.get(m.event, ""),
            m.description + (" Counted on the person's first occurrence." if m.first else ""),
            "milestone",
            (Link(m.event, event_href(root, m.event)),),
            "Event",
        )
        for m in plan.milestones.values()
    )


def home_page(plan: Plan, health: Health | None) -> HomePage:
    sections = tuple(
        CategorySection(
            c.name,
            c.title,
            c.description,
            tuple(
                EventCard(
                    Link(e.name, event_href("", e.name)),
                    e.description,
                    health.for_event(e.name) if health else None,
                )
                for e in plan.events_in(c.name)
            ),
        )
        for c in plan.categories.values()
    )
    return HomePage(
        categories=sections,
        event_count=len(plan.events),
        property_count=len(plan.properties),
        diagrams=(diagram(plan, 4), diagram(plan, 2)) if plan.states else (),
        stages=stage_terms(plan, ""),
        milestones=milestone_terms(plan, ""),
        health=_health_summary(plan, health) if health else None,
        observed=health.profile.transitions if health and health.profile else (),
    )


def property_index(plan: Plan) -> tuple[PropertyEntry, ...]:
    uses = {name: 0 for name in plan.properties}
    for event in plan.events.values():
        for ep in event.properties:
            uses[ep.name] = uses.get(ep.name, 0) + 1
    return tuple(
        PropertyEntry(
            Link(p.name, property_href("", p.name)),
            type_label(p),
            p.description,
            uses[p.name],
            p.deprecated,
        )
        for p in sorted(plan.properties.values(), key=lambda p: p.name)
    )


def meta_rows(plan: Plan) -> tuple[MetaRow, ...]:
    if plan.meta is None:
        return ()
    return tuple(MetaRow(m, Link(m.event, event_href("", m.event))) for m in plan.meta.mappings)


def glossary_page(plan: Plan) -> GlossaryPage:
    identity = plan.identity
    return GlossaryPage(
        stages=stage_terms(plan, ""),
        milestones=milestone_terms(plan, ""),
        categories=tuple(
            Term(f"category-{c.name}", c.title, c.name, c.description, "", ())
            for c in plan.categories.values()
        ),
        layers=tuple(
            Term(
                f"layer-{layer.name}",
                layer.name,
                layer.name,
                f"{layer.description} Sends through the {layer.runtime} tracker.".strip(),
                "",
                (),
            )
            for layer in plan.layers.values()
        ),
        deprecated_events=tuple(
            Term(
                f"deprecated-{d.name}",
                d.name,
                d.name,
                d.description,
                "",
                (Link(d.replaced_by, event_href("", d.replaced_by)),),
                "Replaced by",
            )
            for d in plan.deprecated_events.values()
        ),
        identity=(
            (
                ("Stitched on", identity.stitch_on),
                ("Anonymous ids", f"{identity.anonymous_prefix}…"),
                ("User ids", f"{identity.user_prefix}…"),
                ("Methods", ", ".join(identity.methods)),
                ("Rule", identity.description),
            )
            if identity
            else ()
        ),
    )
