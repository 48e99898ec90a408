"""Production impact: of an export's rows of each changed event, which pass the base plan and
fail the new one ("what breaks in production if we merge this").

Each plan audits the export row by row with the reference engine (`compiler.audit.reference`,
the same checks as `trackplan audit --engine jsonschema`, cross-row sequence rules included);
a row fails a plan when it has an error-level finding. Rows are matched by their uuid (or
file:row when they have none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import duckdb

from compiler.audit import sequence
from compiler.audit.findings import EXAMPLES, SEVERITY
from compiler.audit.reference import Reference, _coerce, pii_findings, read_rows
from compiler.audit.rules import AuditRules, csv_nulls
from compiler.diff.model import Bump, EventImpact
from compiler.exports import open_events
from compiler.plan.model import Plan


def failing_rows(plan: Plan, inputs: Sequence[str]) -> tuple[dict[str, list[str]], set[str]]:
    """Row ids per event, and the ids of the rows with an error-level finding against `plan`."""
    con = duckdb.connect()
    try:
        exports = open_events(con, inputs, csv_nulls(plan))
        if exports.errors:
            raise ValueError("; ".join(exports.errors))
        rules = AuditRules(plan)
        ref = Reference(rules)
        text = set(exports.text_files)
        ids: dict[str, list[str]] = defaultdict(list)
        failing: set[str] = set()
        rows = []
        for row, uuid in read_rows(con):
            rows.append(row)
            ids[row.event].append(row.ex)
            props = row.properties
            found = pii_findings(rules, props)
            if row.event in plan.events:
                typed = (
                    {k: _coerce(v, ref.types.get(k, "string")) for k, v in props.items()}
                    if row.file in text
                    else props
                )
                found |= ref.schema_findings(row, typed, uuid)
                found |= ref.key_findings(row, props)
            elif not row.event.startswith("$"):
                found.add(("unknown_event", None))
            if any(SEVERITY.get(kind) == "error" for kind, _ in found):
                failing.add(row.ex)
        for r, kind, _prop in sequence.python_violations(rows, rules):
            if SEVERITY.get(kind) == "error":
                failing.add(r.ex)
        return dict(ids), failing
    finally:
        con.close()


def measure(
    inputs: Sequence[str], base: Plan, new: Plan, bumps: Mapping[str, Bump]
) -> list[EventImpact]:
    """Per changed event (`bumps`' keys): rows, failing each plan, passing base but failing new."""
    ids, base_failing = failing_rows(base, inputs)
    _, new_failing = failing_rows(new, inputs)
    out = []
    for event in bumps:
        mine = ids.get(event, [])
        newly = sorted(i for i in mine if i in new_failing and i not in base_failing)
        out.append(
            EventImpact(
                event,
                len(mine),
                sum(i in base_failing for i in mine),
                sum(i in new_failing for i in mine),
                len(newly),
                tuple(newly[:EXAMPLES]),
            )
        )
    return out
