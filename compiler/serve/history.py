"""The cross-row rules (sequence, identity) over what the server has seen, per person.

The audit's own `sequence.python_violations` decides; this module only chooses which earlier
rows it needs to see for a new row, so a long-running server does not re-read every row per
event. What `python_violations` reads about a new row r is: the persons of r's distinct id and
of its user id (built from the `$identify` / `$create_alias` links, all of which lie in the
same linked group of ids as r), the earliest row of each `requires_before` event and of the
`stitch_on` event per person or per `match_on` value, and whether r's ids were ever linked.
So the server keeps, per group of linked ids and per `match_on` value, one witness row for each
distinct (event, ids, cross-row keys) among the events a cross-row rule reads, the earliest;
and passes r plus the witnesses of its groups to `python_violations`, keeping r's violations.
The result is the one `python_violations` gives over every row seen so far.
"""

from __future__ import annotations

from typing import Any

from compiler.audit import sequence
from compiler.audit.rules import AuditRules

Witness = tuple[str, str | None, tuple[str | None, ...]]


def _text(value: Any) -> str | None:
    """A value as the cross-row rules compare it (DuckDB's json_extract_string)."""
    return None if value is None else sequence.json_text(value)


class History:
    def __init__(self, rules: AuditRules) -> None:
        self.rules = rules
        self.parent: dict[str, str] = {}
        self.group: dict[str, dict[Witness, sequence.Row]] = {}  # root id -> witnesses
        self.keyed: dict[tuple[str, str], dict[Witness, sequence.Row]] = {}  # (rule, value)
        self.watched = rules.cross_row_events
        self.keys = sorted(rules.cross_row_keys)
        self.relevant: dict[str, frozenset[str]] = {}
        self.active = bool(rules.plan.sequence_rules) or rules.plan.identity is not None

    def _find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent.get(x, x)
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        wa, wb = self.group.get(ra, {}), self.group.get(rb, {})
        if len(wa) < len(wb):
            ra, rb, wa, wb = rb, ra, wb, wa
        self.parent[rb] = ra
        wa.update({k: v for k, v in wb.items() if k not in wa or _earlier(v, wa[k])})
        self.group[ra] = wa
        self.group.pop(rb, None)

    def _link(self, row: sequence.Row) -> None:
        props = row.properties
        if row.event == "$identify":
            a, b = props.get("$anon_distinct_id"), row.distinct_id or props.get("distinct_id")
        elif row.event == "$create_alias":
            a, b = row.distinct_id, props.get("alias")
        else:
            return
        if a is not None and b is not None and str(a) != str(b):
            self._union(str(a), str(b))

    def _ids(self, row: sequence.Row) -> list[str]:
        user_key = self.rules.user_key
        user = _text(row.properties.get(user_key)) if user_key else None
        return [i for i in (row.distinct_id, user) if i is not None]

    def _keyed_values(self, row: sequence.Row) -> list[tuple[str, str]]:
        out = []
        for rule in self.rules.keyed_rules:
            value = _text(row.properties.get(rule.match_on))
            if value is not None:
                out.append((rule.name, value))
        return out

    def violations(self, row: sequence.Row) -> list[tuple[str, str | None]]:
        """(kind, property) of each cross-row violation of `row`, which is then remembered."""
        if not self.active or not self._may_violate(row):
            return []
        self._link(row)
        seen: dict[int, sequence.Row] = {}
        for root in {self._find(i) for i in self._ids(row)}:
            seen.update((id(r), r) for r in self.group.get(root, {}).values())
        for key in self._keyed_values(row):
            seen.update((id(r), r) for r in self.keyed.get(key, {}).values())
        wanted = self._relevant(row.event)
        rows = [*(r for r in seen.values() if r.event in wanted), row]
        found = [(k, p) for r, k, p in sequence.python_violations(rows, self.rules) if r is row]
        self._remember(row)
        return found

    def _relevant(self, event: str) -> frozenset[str]:
        """The events whose rows can change what `python_violations` says about an `event`
        row: the links, the stitch event, and what the rules naming `event` require before."""
        known = self.relevant.get(event)
        if known is None:
            plan = self.rules.plan
            names = {"$identify", "$create_alias"}
            names |= {plan.identity.stitch_on} if plan.identity is not None else set()
            for rule in plan.sequence_rules.values():
                if event in rule.events:
                    names |= set(rule.requires_before)
            known = self.relevant[event] = frozenset(names)
        return known

    def _may_violate(self, row: sequence.Row) -> bool:
        """False when no cross-row rule reads `row` nor can flag it: no rule names its event,
        and it carries the user id (or the plan asks for none after the stitch)."""
        if row.event in self.watched:
            return True
        identity, user_key = self.rules.plan.identity, self.rules.user_key
        return (
            identity is not None
            and identity.user_id_required_after_stitch
            and user_key is not None
            and row.event in self.rules.plan.events
            and row.properties.get(user_key) is None
        )

    def _remember(self, row: sequence.Row) -> None:
        if row.event not in self.watched and not self._starts_identity(row):
            return
        props: dict[str, Any] = row.properties
        kept = {k: props[k] for k in self.keys if k in props}
        keep = sequence.Row(
            row.event, row.timestamp, row.file, row.row, row.ex, row.distinct_id, None, kept
        )
        witness: Witness = (
            row.event,
            row.distinct_id,
            tuple(_text(kept.get(k)) for k in self.keys),
        )
        for i in self._ids(row):
            witnesses = self.group.setdefault(self._find(i), {})
            if witness not in witnesses or _earlier(keep, witnesses[witness]):
                witnesses[witness] = keep
        for key in self._keyed_values(row):
            witnesses = self.keyed.setdefault(key, {})
            if witness not in witnesses or _earlier(keep, witnesses[witness]):
                witnesses[witness] = keep

    def _starts_identity(self, row: sequence.Row) -> bool:
        identity = self.rules.plan.identity
        return identity is not None and row.event == identity.stitch_on

    def clear(self) -> None:
        self.parent.clear()
        self.group.clear()
        self.keyed.clear()


def _earlier(a: sequence.Row, b: sequence.Row) -> bool:
    if a.timestamp is None or b.timestamp is None:
        return a.timestamp is not None
    return a.timestamp < b.timestamp
