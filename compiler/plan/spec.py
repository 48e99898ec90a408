"""The declared shape of a plan document: every section, its keys and their kinds, once.

`shape.py` checks files against these declarations; adding a key to the plan format is one
line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Spec = Any  # Scalar | ListOf | Record | NamedMap


@dataclass(frozen=True)
class Scalar:
    kinds: tuple[type, ...]
    noun: str


@dataclass(frozen=True)
class ListOf:
    item: Spec


@dataclass(frozen=True)
class Record:
    fields: dict[str, Spec]
    required: frozenset[str] = frozenset()
    described: bool = False  # warn when `description` is missing


@dataclass(frozen=True)
class NamedMap:
    """A mapping from names chosen by the plan author to values of one shape."""

    value: Spec


STR = Scalar((str,), "a string")
BOOL = Scalar((bool,), "true or false")
NUM = Scalar((int, float), "a number")
INT = Scalar((int,), "a whole number")
ANY_SCALAR = Scalar((str, int, float, bool, type(None)), "a scalar")
NAMES = ListOf(STR)


def _record(must: tuple[str, ...] = (), /, described: bool = False, **fields: Spec) -> Record:
    return Record(dict(fields), frozenset(must), described)


PROPERTY = _record(
    ("type",),
    described=True,
    type=STR,
    description=STR,
    nullable=BOOL,
    enum=ListOf(ANY_SCALAR),
    minimum=NUM,
    maximum=NUM,
    min_length=INT,
    max_length=INT,
    format=STR,
    pattern=STR,
    unit=STR,
    pii=BOOL,
    deprecated=BOOL,
    replaced_by=STR,
    items=_record(("type",), type=STR, enum=ListOf(ANY_SCALAR)),
    examples=ListOf(ANY_SCALAR),
)

EVENT = _record(
    ("category", "layers"),
    described=True,
    category=STR,
    description=STR,
    layers=NAMES,
    stages=NAMES,
    required=NAMES,
    optional=NAMES,
    include=NAMES,
    envelope_required=NAMES,
    trigger=STR,  # when the event fires, in words
    owner=STR,  # the team that owns it
    version=Scalar((str, int, float), "a version"),  # MAJOR.MINOR.PATCH; resolve checks TP023
)

STATE_RULE = _record(
    ("kind", "events", "days"),
    kind=STR,
    after=STR,
    events=NAMES,
    days=INT,
    or_events=NAMES,
    description=STR,
)

PURCHASE_CLASS = _record(("event",), event=STR, property=STR, values=ListOf(ANY_SCALAR))

REVENUE_SOURCE = _record(("event", "value"), event=STR, value=STR, currency=STR)

META_MAPPING = _record(
    ("event", "meta_event"),
    event=STR,
    meta_event=STR,
    value=STR,
    currency=STR,
    first_only=BOOL,
    description=STR,
)


@dataclass(frozen=True)
class Section:
    spec: Spec
    mergeable: bool  # NamedMap sections may be split across files; the others appear once


SECTIONS: dict[str, Section] = {
    "plan": Section(
        _record(
            ("name", "version"),
            described=True,
            name=STR,
            version=STR,
            description=STR,
            schema_base_uri=STR,
        ),
        False,
    ),
    "conventions": Section(_record(event_name=STR, property_name=STR, sdk_properties=NAMES), False),
    "codegen": Section(
        _record(
            python_package=STR,
            python_distribution=STR,
            npm_package=STR,
            default_environment=STR,
        ),
        False,
    ),
    # An optional behaviour profile for `trackplan synth`: a Python package inside the plan
    # directory that tells a richer story than the generic engine (jobs, credits, billing, ...).
    "synth": Section(_record(("profile",), profile=STR), False),
    "layers": Section(NamedMap(_record(described=True, description=STR, runtime=STR)), True),
    "categories": Section(
        NamedMap(_record(("title",), described=True, title=STR, description=STR)), True
    ),
    "properties": Section(NamedMap(PROPERTY), True),
    "property_sets": Section(
        NamedMap(_record(described=True, description=STR, required=NAMES, optional=NAMES)), True
    ),
    "envelope": Section(
        NamedMap(
            _record(
                ("placement", "required"),
                placement=STR,
                required=BOOL,
                description=STR,
                posthog_name=STR,
                role=STR,
            )
        ),
        True,
    ),
    "events": Section(NamedMap(EVENT), True),
    "deprecated_events": Section(
        NamedMap(_record(("replaced_by",), described=True, replaced_by=STR, description=STR)), True
    ),
    "stages": Section(
        NamedMap(_record(("title",), described=True, title=STR, description=STR)), True
    ),
    "milestones": Section(
        NamedMap(
            _record(
                ("title", "event"),
                described=True,
                title=STR,
                event=STR,
                first=BOOL,
                description=STR,
            )
        ),
        True,
    ),
    "states": Section(
        NamedMap(_record(("name",), name=STR, event=STR, rule=STATE_RULE, description=STR)),
        True,
    ),
    "transitions": Section(
        NamedMap(_record(described=False, rate=NUM, alias=STR, description=STR)), True
    ),
    "forecast": Section(
        _record(
            ("outcomes",),
            described=True,
            description=STR,
            objective=STR,
            entry=_record(("rate",), title=STR, rate=NUM, description=STR),
            outcomes=NamedMap(_record(("state",), title=STR, state=STR, description=STR)),
        ),
        False,
    ),
    "churn": Section(
        _record(
            ("activity_events", "inactivity_days"),
            described=True,
            description=STR,
            activity_events=NAMES,
            inactivity_days=INT,
            windows=ListOf(INT),
            cancel_events=NAMES,
            subscriptions=_record(
                ("started", "canceled", "key"), started=STR, canceled=STR, key=STR
            ),
            one_off_purchases=ListOf(PURCHASE_CLASS),
            subscription_purchases=ListOf(PURCHASE_CLASS),
        ),
        False,
    ),
    "revenue": Section(
        _record(
            ("events",),
            described=True,
            description=STR,
            events=ListOf(REVENUE_SOURCE),
            refunds=ListOf(REVENUE_SOURCE),
        ),
        False,
    ),
    "hazard": Section(
        _record(
            ("state", "at_risk", "base"),
            described=True,
            description=STR,
            state=STR,
            at_risk=STR,
            anchor=STR,
            window_days=INT,
            base=NUM,
            max=NUM,
            covariates=NamedMap(
                _record(
                    ("event", "extra"),
                    described=True,
                    description=STR,
                    event=STR,
                    where=_record(
                        ("property",),
                        property=STR,
                        above=NUM,
                        below=NUM,
                        equals=ANY_SCALAR,
                    ),
                    extra=NUM,
                    share=NUM,
                )
            ),
        ),
        False,
    ),
    "sequence_rules": Section(
        NamedMap(
            _record(
                ("events", "requires_before", "match_on"),
                described=True,
                description=STR,
                events=NAMES,
                requires_before=NAMES,
                match_on=STR,
            )
        ),
        True,
    ),
    "identity": Section(
        _record(
            ("stitch_on",),
            described=True,
            description=STR,
            anonymous_prefix=STR,
            user_prefix=STR,
            stitch_on=STR,
            methods=NAMES,
            user_id_required_after_stitch=BOOL,
        ),
        False,
    ),
    "destinations": Section(
        _record(
            meta=_record(
                ("mappings",),
                described=True,
                description=STR,
                action_source=STR,
                consent_property=STR,
                click_id_property=STR,
                mappings=ListOf(META_MAPPING),
            )
        ),
        False,
    ),
}

# The models section (features, labels, snapshots, models) is declared in its own module.
from compiler.plan.spec_models import MODELS  # noqa: E402

SECTIONS["models"] = Section(MODELS, False)
