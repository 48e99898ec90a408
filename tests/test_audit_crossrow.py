"""The cross-row checks (sequence and identity rules) through every path a row can take.

A row a cross-row check reads reaches `sequence.duck_violations` three ways: as a record the C
line scanner wrote (clean, KEPT), as a line DuckDB read through the SQL screen, or with no
screen at all; the reference engine (`jsonschema`, `sequence.python_violations`) is the
definition. These tests build exports where the identity and sequence findings hang on rows a
careless narrowing would drop (many anonymous rows per person, rows without a user id before,
at and after the first login, persons stitched only by `$identify`/`$create_alias`, persons and
jobs split over files, a user id spelled with an escape) and require every engine to agree,
and the hand-built case to give the hand-counted findings.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.audit import open_screened, run_audit, scan, screen_for
from compiler.audit.rules import AuditRules
from compiler.plan.model import Plan
from tests.export_rows import posthog_row

T0 = 1_768_212_000  # 2026-01-12T10:00:00Z


def _ts(second: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(T0 + second, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


class Rows:
    """Valid rows of the plan, numbered, with the user id and the other keys a test sets."""

    def __init__(self, plan: Plan) -> None:
        self.plan, self.rules, self.rng, self.n = plan, AuditRules(plan), random.Random(13), 0
        rules = self.rules
        assert plan.identity is not None and rules.user_key is not None
        self.login = plan.identity.stitch_on
        # Plan events no cross-row check names whose user id is optional: a clean row of one
        # the scanner can only keep for the identity rule (or its anonymous id).
        self.plain = sorted(
            n
            for n in plan.events
            if n not in rules.cross_row_events
            and any(
                k.key == rules.user_key and n in k.allowed and n not in k.required
                for k in rules.keys
            )
        )[:3]
        assert self.plain
        self.person_rule = next(r for r in plan.sequence_rules.values() if r.match_on == "person")
        self.keyed_rule = next(r for r in plan.sequence_rules.values() if r.match_on != "person")

    def row(
        self,
        event: str,
        second: int | None,
        distinct_id: str,
        person_id: str | None,
        user: Any = "absent",
        **props: Any,
    ) -> dict[str, Any]:
        self.n += 1
        if event.startswith("$"):
            row = posthog_row(self.plan, self.plain[0], self.rng)
            row["event"], row["properties"] = event, {}
        else:
            row = posthog_row(self.plan, event, self.rng)
        row["uuid"] = f"00000000-0000-4000-8000-{self.n:012d}"
        row["distinct_id"], row["person_id"] = distinct_id, person_id
        row["timestamp"] = None if second is None else _ts(second)
        key = self.rules.user_key or ""
        row["properties"].pop(key, None)
        if user != "absent":
            row["properties"][key] = user
        row["properties"].update(props)
        return row


def _write(path: Path, rows: list[dict[str, Any]], raw: dict[int, bytes] | None = None) -> str:
    lines = [json.dumps(r, separators=(",", ":")).encode() for r in rows]
    for at, line in (raw or {}).items():
        lines[at] = line
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return str(path)


def _audits(plan: Plan, files: list[str]) -> list[dict[str, Any]]:
    """The audit through the scanner, through the SQL screen alone, with no screen, and by the
    reference engine: each result's JSON without its engine name."""
    out = []
    full = screen_for(plan)
    for screen, engine in [
        (full, "duckdb"),
        (full._replace(lines=None), "duckdb"),
        (None, "duckdb"),
        (None, "jsonschema"),
    ]:
        con = duckdb.connect()
        result = run_audit(con, open_screened(con, files, screen), plan, engine=engine)
        data = result.to_json()
        data.pop("engine")
        out.append(data)
    return out


def _cross(result: dict[str, Any]) -> dict[tuple[str, str, str | None], int]:
    return {
        (f["kind"], f["event"], f["property"]): f["count"]
        for f in result["findings"]
        if f["kind"] in ("sequence_violation", "identity_violation")
    }


def test_the_scanner_is_built_here() -> None:
    assert scan.available()


def test_hand_built_persons_give_the_hand_counted_findings(plan: Plan, tmp_path: Path) -> None:
    r = Rows(plan)
    rules = r.rules
    login, a, b, c = r.login, *r.plain[:3]
    needed = r.person_rule.requires_before
    job_event = r.keyed_rule.events[0]
    job_key, job_start = r.keyed_rule.match_on, r.keyed_rule.requires_before[0]
    pa, pc, pd = (f"0190a1b2-0000-7000-8000-00000000000{k}" for k in (1, 3, 4))
    one = [
        # Person A (person_id pa): many anonymous rows, then login at 100 (identified through
        # $identify), then rows without a user id at, before and after the login.
        *[r.row(a if k % 2 else b, k, "anon_a", pa) for k in range(1, 40)],
        r.row("$identify", 100, "usr_a", pa, **{"$anon_distinct_id": "anon_a"}),
        r.row(login, 100, "usr_a", pa, user="usr_a"),
        r.row(c, 100, "usr_a", pa),  # at the login itself: not after it
        r.row(a, 101, "usr_a", pa),  # 1 identity_violation (a, user id)
        r.row(b, 102, "anon_a", pa, user=None),  # 1 (b): null is no user id
        r.row(c, 103, "usr_a", pa, user="usr_a"),
        r.row(a, None, "usr_a", pa),  # no time: never after the login
        # The person rule's event before every needed event: one violation per row.
        r.row(r.person_rule.events[0], 50, "anon_a", pa, user="usr_a"),
        # Person C: logs in with no link and no anonymous row: the stitch finding.
        r.row(login, 10, "usr_c", pc, user="usr_c"),
        # Jobs: started before its created, created at the same second, never created.
        r.row(job_start, 20, "usr_a", pa, user="usr_a", **{job_key: "job_x"}),
        r.row(job_event, 19, "usr_a", pa, user="usr_a", **{job_key: "job_x"}),  # 1
        r.row(job_event, 20, "usr_a", pa, user="usr_a", **{job_key: "job_x"}),
        r.row(job_event, 21, "usr_a", pa, user="usr_a", **{job_key: "job_y"}),  # 1
    ]
    two = [
        # Person B, no person_id: stitched by $create_alias from anon_b to usr_b, with rows
        # on both sides of its login.
        *[r.row(a, k, "anon_b", None) for k in range(1, 20)],
        r.row("$create_alias", 200, "anon_b", None, alias="usr_b"),
        r.row(login, 200, "usr_b", None, user="usr_b"),
        r.row(a, 201, "anon_b", None),  # 1 (a): anon_b's person is usr_b
        r.row(b, 202, "usr_b", None),  # 1 (b)
        # Person D: its login is in this file, unlinked; its anonymous row in the third file.
        r.row(login, 300, "usr_d", pd, user="usr_d"),
        r.row(c, 301, "usr_d", pd),  # 1 (c)
        # The needed events of the person rule for person A (a second login among them),
        # after its event and after the rows above: its event is still a violation.
        *[r.row(e, 150, "usr_a", pa, user="usr_a") for e in needed],
        # A job event in another file than its created row, after it: no finding.
        r.row(job_event, 30, "usr_a", pa, user="usr_a", **{job_key: "job_x"}),
    ]
    three = [r.row(a, 1, "anon_d", pd)]
    # Lines the scanner leaves to DuckDB's reader (an escape): the user id's key spelled with
    # one (present: no finding), and a backslash in a column, with no user id (a finding).
    key = rules.user_key or ""
    escaped = r.row(a, 104, "usr_a", pa, user="usr_a")
    escaped["properties"].pop(key)
    escaped_line = json.dumps(escaped, separators=(",", ":")).replace(
        '"properties":{',
        '"properties":{"' + key[:-1] + "\\u00" + f"{ord(key[-1]):02x}" + '":"usr_a",',
        1,
    )
    backslash = r.row(a, 105, "usr_a", pa)
    backslash["elements_chain"] = 'a\\"b'
    three += [escaped, backslash]
    files = [
        _write(tmp_path / "one.jsonl", one),
        _write(tmp_path / "two.jsonl", two),
        _write(tmp_path / "three.jsonl", three, {1: escaped_line.encode()}),
    ]
    scanner, sql, exact, reference = _audits(plan, files)
    assert scanner == sql == exact == reference
    user = rules.user_name
    expected = {
        ("identity_violation", a, user): 3,  # A at 101, B at 201, the backslash row
        ("identity_violation", b, user): 2,  # A at 102 (null), B at 202
        ("identity_violation", c, user): 1,  # D at 301
        ("identity_violation", login, None): 1,  # C
        ("sequence_violation", r.person_rule.events[0], None): 1,
        ("sequence_violation", job_event, None): 2,
    }
    assert _cross(reference) == expected, json.dumps(
        [f for f in reference["findings"] if f["kind"].endswith("_violation")]
    )


@st.composite
def _exports(draw: st.DrawFn, plan: Plan) -> list[list[dict[str, Any]]]:
    """Persons with anonymous and identified rows, logins, links and jobs, over 1-3 files."""
    r = Rows(plan)
    events = [*r.plain, r.login, *r.person_rule.events, *r.person_rule.requires_before]
    job_events = [*r.keyed_rule.events[:2], *r.keyed_rule.requires_before]
    files: list[list[dict[str, Any]]] = [[] for _ in range(draw(st.integers(1, 3)))]
    for p in range(draw(st.integers(1, 4))):
        person = draw(st.sampled_from([f"0190a1b2-0000-7000-8000-00000000010{p}", None]))
        anon, user = f"anon_{p}", f"usr_{p}"
        link = draw(st.sampled_from(["$identify", "$create_alias", None]))
        if link is not None:
            at = draw(st.integers(0, 30))
            extra = {"$anon_distinct_id": anon} if link == "$identify" else {"alias": user}
            who = user if link == "$identify" else anon
            draw(st.sampled_from(files)).append(r.row(link, at, who, person, **extra))
        for _ in range(draw(st.integers(1, 12))):
            event = draw(st.sampled_from(events))
            second = draw(st.one_of(st.integers(0, 30), st.none()))
            distinct = draw(st.sampled_from([anon, user]))
            uid = draw(st.sampled_from(["absent", None, user]))
            if event == r.login:
                uid = draw(st.sampled_from([user, "absent"]))
            draw(st.sampled_from(files)).append(r.row(event, second, distinct, person, user=uid))
        for _ in range(draw(st.integers(0, 3))):
            event = draw(st.sampled_from(job_events))
            job = draw(st.sampled_from(["job_a", "job_b"]))
            row = r.row(event, draw(st.integers(0, 30)), user, person, user=user)
            row["properties"][r.keyed_rule.match_on] = job
            draw(st.sampled_from(files)).append(row)
    return [f for f in files if f]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_persons_agree_on_every_path(plan: Plan, tmp_path: Path, data: Any) -> None:
    exports = data.draw(_exports(plan))
    files = [_write(tmp_path / f"f{k}.jsonl", rows) for k, rows in enumerate(exports)]
    scanner, sql, exact, reference = _audits(plan, files)
    assert scanner == reference
    assert sql == reference
    assert exact == reference
