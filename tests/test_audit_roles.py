"""The audit reads envelope fields by role: a plan without source or environment fields gets no
finding about them, and a plan that names its fields differently (origin, env, visitor_id,
member_id) gets every check on its own names, in every engine (the DuckDB engine with and
without the screen, the jsonschema reference, the C line scanner, the warehouse SQL).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from compiler.audit import scan, screen_for
from compiler.audit.warehouse import emit_sql
from compiler.plan import Plan
from tests.codegen_plans import orbit_plan, sourceless_plan
from tests.export_rows import posthog_row
from tests.test_audit import both, found


@pytest.fixture(scope="module")
def orbit(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return orbit_plan(tmp_path_factory)


@pytest.fixture(scope="module")
def sourceless(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return sourceless_plan(tmp_path_factory)


def _write(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return str(path)


def _at(minute: int) -> str:
    return f"2026-01-12T10:{minute:02d}:00.000000+00:00"


def test_no_source_or_environment_role_means_no_such_finding(
    sourceless: Plan, tmp_path: Path
) -> None:
    rng = random.Random(3)
    rows = [posthog_row(sourceless, name, rng) for name in sorted(sourceless.events) * 3]
    for row in rows:  # nothing added the plan does not define
        assert not {"source", "environment", "$session_id"} & set(row["properties"])
    clean = _write(tmp_path / "clean.jsonl", rows)
    document = both(sourceless, [clean])
    assert found(document) == set()
    assert document["rows_total"] == len(rows)
    # The line scanner proves every such line clean by itself.
    status, _, _, _ = scan.scan_bytes(Path(clean).read_bytes(), screen_for(sourceless).lines)
    assert [int(s) for s in status] == [scan.CLEAN] * len(rows)
    # A layer sent anyway is a key this plan does not have, not a wrong source.
    stray = posthog_row(sourceless, "job_created", rng)
    stray["properties"].update(source="server", environment="prod")
    document = both(sourceless, [_write(tmp_path / "stray.jsonl", [stray])])
    assert found(document) == {
        ("undocumented_property", "job_created", "source", 1),
        ("undocumented_property", "job_created", "environment", 1),
    }


def _orbit_rows(plan: Plan) -> list[dict[str, Any]]:
    """A visitor (v_1) browses, signs in as m_1, books; then the drift the test expects."""
    rng = random.Random(5)

    def row(name: str, minute: int, distinct_id: str | None = "m_1", **props: Any) -> Any:
        out = posthog_row(plan, name, rng, timestamp=_at(minute), distinct_id=distinct_id)
        out["properties"].update(props)
        return out

    return [
        row("screen_viewed", 1, "v_1", origin="kiosk"),
        row("ride_searched", 2, "v_1", origin="mobile_web"),
        row("member_signed_in", 3, member_id="m_1"),
        row("ride_booked", 4, member_id="m_1", promo_code="SPRING"),
        row("ride_searched", 5, origin="api", member_id="m_1"),
        # drift, each on the plan's own field names:
        row("ride_booked", 6, origin="kiosk", member_id="m_1"),  # kiosk is no layer of it
        row("ride_searched", 7, env="prod", member_id="m_1"),  # not one of the environments
        row("screen_viewed", 8, None, member_id="m_1"),  # no distinct id (visitor_id)
        row("ride_searched", 9, origin="api"),  # signed in, but no member_id
        row("screen_viewed", 10, member_id="m_1", source="kiosk"),  # BlankLogo's name
    ]


def test_renamed_role_fields_get_the_checks(orbit: Plan, tmp_path: Path) -> None:
    path = _write(tmp_path / "orbit.jsonl", _orbit_rows(orbit))
    document = both(orbit, [path])
    assert found(document) == {
        ("wrong_source", "ride_booked", "origin", 1),
        ("enum_violation", "ride_searched", "env", 1),
        ("missing_envelope_field", "screen_viewed", "visitor_id", 1),
        ("identity_violation", "ride_searched", "member_id", 1),
        ("undocumented_property", "screen_viewed", "source", 1),
    }


def test_the_line_scanner_reads_the_plans_user_id_field(orbit: Plan) -> None:
    rows = _orbit_rows(orbit)[:5]
    data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode()
    status, _, _, _ = scan.scan_bytes(data, screen_for(orbit).lines)
    # Rows a cross-row check reads are KEPT: the anonymous visitor's (v_ with a person_id),
    # the sign-in (identity's stitch_on). A signed-in row with a member_id is CLEAN: the
    # scanner found the plan's user id field, whatever it is called.
    assert [int(s) for s in status] == [scan.KEPT, scan.KEPT, scan.KEPT, scan.CLEAN, scan.CLEAN]
    without = dict(rows[4], properties={**rows[4]["properties"]})
    del without["properties"]["member_id"]
    status, _, _, _ = scan.scan_bytes(
        (json.dumps(without, separators=(",", ":")) + "\n").encode(), screen_for(orbit).lines
    )
    assert [int(s) for s in status] == [scan.KEPT]  # may be an identity violation


def test_warehouse_sql_uses_the_plans_names(orbit: Plan, sourceless: Plan) -> None:
    hogql = emit_sql(orbit, "hogql")
    assert "'wrong_source' AS kind" in hogql and "properties.origin IN (" in hogql
    assert "properties.source" not in hogql and "properties.environment" not in hogql
    clickhouse = emit_sql(orbit, "clickhouse")
    assert "k = 'origin'" in clickhouse and "k = 'source'" not in clickhouse
    assert "'missing_envelope_field', 'visitor_id'" in clickhouse
    plain = emit_sql(sourceless, "hogql") + emit_sql(sourceless, "clickhouse")
    assert "wrong_source" not in plain.split("\n", 2)[2] and "source" not in plain.split("\n", 2)[2]
