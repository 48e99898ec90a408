"""The declared shape of the plan's `models` section (PRD §6, §7, §9): features, labels,
snapshots and the models that combine them. Registered in spec.py's SECTIONS like every section.
"""

from __future__ import annotations

from compiler.plan.spec import ListOf, NamedMap, Record, Scalar

# Declared here again, not imported: spec.py imports this module at its end.
STR = Scalar((str,), "a string")
NUM = Scalar((int, float), "a number")
INT = Scalar((int,), "a whole number")
ANY_SCALAR = Scalar((str, int, float, bool, type(None)), "a scalar")
NAMES = ListOf(STR)


def _record(must: tuple[str, ...], described: bool = False, **fields: object) -> Record:
    return Record(dict(fields), frozenset(must), described)


# The same filter the hazard's covariates take: one property and exactly one test.
WHERE = _record(("property",), property=STR, above=NUM, below=NUM, equals=ANY_SCALAR)

FEATURE = _record(
    ("kind",),
    kind=STR,
    description=STR,
    event=STR,
    property=STR,
    where=WHERE,
    days=INT,
    numerator=STR,
    denominator=STR,
    to_event=STR,
)

LABEL = _record(
    ("kind", "days"),
    kind=STR,
    description=STR,
    days=INT,
    event=STR,
    where=WHERE,
    events=NAMES,
    cancel_events=NAMES,
)

SNAPSHOT = _record(("kind",), kind=STR, description=STR, event=STR, days=INT, count=INT)

MODEL = _record(
    ("kind", "features", "label", "snapshot"),
    described=True,
    kind=STR,
    description=STR,
    title=STR,
    features=NAMES,
    label=STR,
    snapshot=STR,
    min_positives=INT,
)

MODELS: Record = _record(
    ("features", "labels", "snapshots", "models"),
    described=True,
    description=STR,
    features=NamedMap(FEATURE),
    labels=NamedMap(LABEL),
    snapshots=NamedMap(SNAPSHOT),
    models=NamedMap(MODEL),
)
