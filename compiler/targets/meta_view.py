"""The Meta Pixel / Conversions API mapping as both packages use it (PRD §11).

Decided here once: which plan event maps to which Meta standard event, where Meta's
`custom_data.value` and `currency` come from, and which mappings fire only on a person's first
occurrence. The Python and TypeScript targets render this table; neither re-derives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.plan.model import Plan

# Meta accepts at most this many events per Conversions API request, none older than this.
CAPI_MAX_EVENTS_PER_REQUEST = 1000
CAPI_MAX_AGE_DAYS = 7


@dataclass(frozen=True)
class MetaRow:
    event: str
    meta_event: str
    value_property: str | None
    currency_property: str | None
    first_only: bool


@dataclass(frozen=True)
class MetaView:
    action_source: str
    rows: tuple[MetaRow, ...]  # sorted by plan event name
    max_events_per_request: int = CAPI_MAX_EVENTS_PER_REQUEST
    max_age_days: int = CAPI_MAX_AGE_DAYS
    # Plan properties the mapping reads from every event's properties when present (the
    # destination's click_id_property and consent_property).
    click_id_property: str = "fbclid"
    consent_property: str | None = None


def meta_view(plan: Plan) -> MetaView:
    """The mapping table; empty when the plan has no Meta destination."""
    if plan.meta is None:
        return MetaView(action_source="website", rows=())
    rows = tuple(
        sorted(
            (
                MetaRow(m.event, m.meta_event, m.value_property, m.currency_property, m.first_only)
                for m in plan.meta.mappings
            ),
            key=lambda r: r.event,
        )
    )
    return MetaView(
        action_source=plan.meta.action_source,
        rows=rows,
        click_id_property=plan.meta.click_id_property,
        consent_property=plan.meta.consent_property,
    )
