"""trackplan audit: every finding kind, and the DuckDB engine against the jsonschema reference."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.audit import open_screened, run_audit, screen_for
from compiler.audit.findings import KINDS
from tests.conftest import FIXTURES
from tests.export_rows import posthog_row, write_posthog_jsonl

SAMPLE = FIXTURES / "exports" / "sample_export.jsonl"


def audit(
    plan, inputs: list[str], engine: str = "duckdb", screened: bool = True, **options: Any
) -> dict[str, Any]:
    """The audit as the CLI runs it: the DuckDB engine reads through the screen."""
    con = duckdb.connect()
    strict = bool(options.get("strict_system", False))
    screen = screen_for(plan, strict_system=strict) if engine == "duckdb" and screened else None
    report = open_screened(con, inputs, screen)
    document = run_audit(con, report, plan, engine=engine, **options).to_json()
    document.pop("engine")
    return document


def both(plan, inputs: list[str], **options: Any) -> dict[str, Any]:
    fast = audit(plan, inputs, "duckdb", **options)
    assert fast == audit(plan, inputs, "jsonschema", **options)
    assert fast == audit(plan, inputs, "duckdb", screened=False, **options)
    return fast


def found(document: dict[str, Any]) -> set[tuple[str, str | None, str | None, int]]:
    return {
        (f["kind"], f["event"], f["property"], f["count"])
        for f in document["findings"]
        if f["kind"] != "never_seen"
    }


def test_sample_export_has_every_kind_of_drift(plan) -> None:
    document = both(plan, [str(SAMPLE)])
    assert found(document) == {
        ("unparseable_row", None, None, 1),
        ("unknown_event", "job_completed", None, 1),
        ("unknown_event", "signup_cta_clicked", None, 1),
        ("missing_required_property", "job_created", "mode", 1),
        ("type_mismatch", "job_created", "credits_before", 1),
        ("enum_violation", "job_created", "mode", 1),
        ("enum_violation", "signup_submit", "email_domain_type", 1),
        ("constraint_violation", "job_created", "job_id", 1),
        ("constraint_violation", "processing_completed", "processing_time_ms", 1),
        ("null_violation", "job_created", "user_id", 1),
        ("undocumented_property", "upload_view", "coupon", 1),
        ("deprecated_property", "job_created", "mode_selected", 1),
        ("wrong_source", "processing_completed", "source", 1),
        ("missing_envelope_field", "credits_granted", "environment", 1),
        ("sequence_violation", "processing_completed", None, 1),
        ("identity_violation", "job_created", "user_id", 1),
        ("identity_violation", "upload_view", "user_id", 1),
        ("identity_violation", "login_success", None, 1),
        ("pii_leak", "signup_submit", "email_domain_type", 1),
    }
    kinds = {f["kind"] for f in document["findings"]}
    assert kinds == set(KINDS)
    assert document["rows_total"] == 23 and document["rows_unparseable"] == 1
    assert document["summary"]["never_seen"] == len(plan.events) - 9
    deprecated = [f for f in document["findings"] if f["event"] == "job_completed"]
    assert deprecated[0]["detail"] == "deprecated event; send processing_completed"
    mode = [f for f in document["findings"] if f["kind"] == "deprecated_property"][0]
    assert mode["detail"] == "deprecated; send mode"
    assert document["events"]["job_created"] == {
        "count": 4,
        "first_seen": "2026-01-12T10:07:00.000000Z",
        "last_seen": "2026-01-12T10:18:00.000000Z",
        "rows_with_violations": 3,
    }
    assert document["events"]["$pageview"]["rows_with_violations"] == 0


def test_examples_are_row_uuids_and_file_lines(plan) -> None:
    document = audit(plan, [str(SAMPLE)])
    unparseable = [f for f in document["findings"] if f["kind"] == "unparseable_row"][0]
    assert unparseable["examples"] == [f"{SAMPLE}:13"]
    coupon = [f for f in document["findings"] if f["property"] == "coupon"][0]
    assert coupon["examples"] == ["0190b5e0-0000-7000-8000-000000000017"]


def test_realistic_posthog_rows_are_clean(plan, tmp_path: Path) -> None:
    path = write_posthog_jsonl(tmp_path / "clean.jsonl", plan, 3000)
    document = both(plan, [str(path)])
    assert found(document) == set()
    assert document["summary"] == {"never_seen": document["summary"]["never_seen"]}


def test_strict_system_makes_posthog_events_and_properties_findings(plan) -> None:
    loose = found(audit(plan, [str(SAMPLE)]))
    strict = found(both(plan, [str(SAMPLE)], strict_system=True))
    added = strict - loose
    assert ("unknown_event", "$pageview", None, 1) in added
    assert ("undocumented_property", "landing_view", "$current_url", 1) in added
    assert all(kind in ("unknown_event", "undocumented_property") for kind, *_ in added)


def test_csv_values_are_text_numbers_accepted(plan, tmp_path: Path) -> None:
    header = (
        "*.uuid,*.event,*.properties.source,*.properties.environment,*.properties.user_id,"
        "*.properties.credits_added,*.properties.credits_after,*.properties.grant_reason,"
        "*.timestamp,*.distinct_id"
    )
    rows = [
        "u1,credits_granted,server,prod,usr_1,12,12,promo,2026-01-12T10:00:00Z,usr_1",
        "u2,credits_granted,server,prod,usr_1,fast,1.5,promo,2026-01-12T10:00:01Z,usr_1",
    ]
    path = tmp_path / "ui.csv"
    path.write_text("\r\n".join([header, *rows]) + "\r\n")
    document = both(plan, [str(path)])
    mismatches = [f for f in document["findings"] if f["kind"] == "type_mismatch"]
    assert [(f["property"], f["examples"]) for f in mismatches] == [
        ("credits_added", ["u2"]),
        ("credits_after", ["u2"]),
    ]


def test_canonical_rows_audit_like_posthog_rows(plan, tmp_path: Path) -> None:
    canonical = {
        "event": "processing_failed",
        "timestamp": "2026-01-12T05:12:34.123Z",
        "source": "worker",
        "environment": "prod",
        "distinct_id": "usr_1",
        "user_id": "usr_1",
        "session_id": "sess_1",
        "uuid": "0190a1b2-0000-7000-8000-000000000001",
        "properties": {
            "job_id": "job_1",
            "mode": "crop",
            "success": False,
            "failure_reason_code": "timeout",
        },
    }
    path = tmp_path / "canonical.jsonl"
    path.write_text(json.dumps(canonical) + "\n")
    document = both(plan, [str(path)])
    assert found(document) == {("sequence_violation", "processing_failed", None, 1)}


MUTATIONS = ("drop", "null", "int", "text", "bool", "list", "enum", "extra", "email", "rename")


@st.composite
def mutated_rows(draw: st.DrawFn, plan) -> list[dict[str, Any]]:
    names = sorted(plan.events)
    rows = []
    for n in range(draw(st.integers(1, 4))):
        rng = random.Random(draw(st.integers(0, 10_000)))
        row = posthog_row(plan, draw(st.sampled_from(names)), rng, uuid=f"row-{n}")
        props = row["properties"]
        for _ in range(draw(st.integers(0, 3))):
            mutation = draw(st.sampled_from(MUTATIONS))
            key = draw(st.sampled_from(sorted(props)))
            if mutation == "drop":
                props.pop(key, None)
            elif mutation == "null":
                props[key] = None
            elif mutation == "int":
                props[key] = draw(st.integers(-5, 5))
            elif mutation == "text":
                props[key] = draw(st.sampled_from(["", "x", "12", "usr_1", "job_!", "1.5"]))
            elif mutation == "bool":
                props[key] = draw(st.booleans())
            elif mutation == "list":
                props[key] = draw(st.sampled_from([[], ["a"], [1, 2], [None]]))
            elif mutation == "enum":
                props[key] = "not_in_any_enum"
            elif mutation == "extra":
                props[
                    draw(st.sampled_from(["coupon", "$feature/x", "mode_selected", "resolution"]))
                ] = "1"
            elif mutation == "email":
                props[key] = "reach me at a.b@example.org"
            else:
                row["event"] = draw(st.sampled_from(["job_completed", "$pageview", "made_up"]))
        rows.append(row)
    return rows


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_engines_agree_on_mutated_rows(plan, tmp_path: Path, data: st.DataObject) -> None:
    rows = data.draw(mutated_rows(plan))
    path = tmp_path / "mutated.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    both(plan, [str(path)])


@pytest.mark.parametrize("fixture", ["sample_export.jsonl"])
def test_engines_agree_on_fixtures(plan, fixture: str) -> None:
    both(plan, [str(FIXTURES / "exports" / fixture)])
