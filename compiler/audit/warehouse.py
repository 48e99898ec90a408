"""The audit as one SQL query over PostHog's `events` table, for every dialect of the registry
(compiler/funnel/dialects.py) that has an `audit_form`.

It returns rows `(kind, event, property, count)` with the same checks as the DuckDB engine,
for the kinds a single aggregate query can express. The query is built from the rule model
(`AuditRules`, `PlanTables`) by asking the dialect for every construct, so a new warehouse
dialect is `Dialect` methods, not an edit here. Two forms:
- "json" (ClickHouse): `properties` is the JSON string column; the plan travels inside the
  query as array and map literals (key -> rule, event -> allowed keys) and every present key of
  a row is checked against them by its JSON type;
- "typed" (HogQL): typed property access cannot tell a JSON null from a missing key or a string
  from a number, so one count per check, for the kinds that need no JSON types.
"""

from __future__ import annotations

from collections.abc import Callable

from compiler.audit.warehouse_json import OMITTED, json_sql
from compiler.audit.warehouse_typed import TYPED_OMITTED, typed_sql
from compiler.funnel.dialects import DIALECTS as REGISTRY
from compiler.funnel.dialects import get as dialect
from compiler.plan.model import Plan

__all__ = ["DIALECTS", "FORMS", "OMITTED", "TYPED_OMITTED", "emit_sql", "json_sql", "typed_sql"]


# The audit's forms, by `Dialect.audit_form`; its dialects are the registry's that have one.
FORMS: dict[str, Callable[..., str]] = {"json": json_sql, "typed": typed_sql}
DIALECTS = tuple(name for name, d in REGISTRY.items() if d.audit_form in FORMS)


def emit_sql(plan: Plan, dialect_name: str, *, strict_system: bool = False) -> str:
    d = dialect(dialect_name)
    if d.audit_form not in FORMS:
        raise ValueError(f"the audit has no SQL form for dialect '{dialect_name}'")
    return FORMS[d.audit_form](plan, d, strict_system=strict_system)
