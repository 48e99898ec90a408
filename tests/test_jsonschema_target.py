"""The JSON Schema target: metaschema-valid, deterministic, and it accepts/rejects as stated."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from compiler.targets import jsonschema as target

CANONICAL = {  # PRD §10, verbatim
    "event": "processing_completed",
    "timestamp": "2026-01-12T05:12:34.123Z",
    "source": "worker",
    "environment": "prod",
    "distinct_id": "anon_9b2f...",
    "user_id": "usr_12345",
    "session_id": "sess_abc123",
    "properties": {
        "page_path": "/app",
        "utm_source": "facebook",
        "utm_campaign": "BlankLogo | Purchase | Prospecting | Broad US | Creative Test v1",
        "ad_platform": "meta",
        "campaign_id": "123",
        "adset_id": "456",
        "ad_id": "789",
        "creative_id": "cr_001",
        "ad_angle": "ugc_deliverable",
        "landing_variant_id": "hero_v3",
        "job_id": "job_987",
        "mode": "inpaint",
        "detected_platform": "tiktok",
        "watermark_position": "corner",
        "watermark_confidence": 0.91,
        "video_duration_bucket": "10-30s",
        "resolution_bucket": "1080p",
        "file_size_bucket": "50-150mb",
        "queue_wait_ms": 12000,
        "processing_time_ms": 98000,
        "success": True,
        "failure_reason_code": None,
        "credits_before": 18,
        "credits_after": 17,
    },
}


@pytest.fixture(scope="module")
def files(plan):
    return target.render(plan)


def _validator(files, event):
    schema = json.loads(files[target.PurePosixPath("jsonschema", "events", f"{event}.schema.json")])
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_one_schema_per_event_plus_envelope_and_index(plan, files):
    events = {p.name.removesuffix(".schema.json") for p in files if p.parts[1] == "events"}
    assert events == set(plan.events) and len(events) == 54
    assert target.PurePosixPath("jsonschema", "envelope.schema.json") in files
    index = json.loads(files[target.PurePosixPath("jsonschema", "index.json")])
    assert set(index["events"]) == set(plan.events)


def test_every_schema_passes_the_metaschema(files):
    for path, text in files.items():
        if path.name.endswith(".schema.json"):
            jsonschema.Draft202012Validator.check_schema(json.loads(text))


def test_ids_are_stable_and_unique(files):
    ids = [json.loads(t)["$id"] for p, t in files.items() if p.name.endswith(".schema.json")]
    assert len(ids) == len(set(ids))
    assert "https://schemas.blanklogo.app/tracking/events/processing_completed.schema.json" in ids


def test_canonical_example_validates(files):
    assert list(_validator(files, "processing_completed").iter_errors(CANONICAL)) == []


@pytest.mark.parametrize(
    ("key", "value", "validator"),
    [
        ("mode", "blur", "enum"),
        ("watermark_confidence", 1.7, "maximum"),
        ("job_id", "987", "pattern"),
    ],
)
def test_bad_values_are_rejected(files, key, value, validator):
    event = copy.deepcopy(CANONICAL)
    event["properties"][key] = value
    errors = list(_validator(files, "processing_completed").iter_errors(event))
    assert [e.validator for e in errors] == [validator]


def test_posthog_properties_are_tolerated_but_typos_are_not(files):
    event = copy.deepcopy(CANONICAL)
    event["properties"].update({"$lib": "posthog-python", "$geoip_disable": True, "token": "phc_x"})
    assert list(_validator(files, "processing_completed").iter_errors(event)) == []
    event["properties"]["jobid"] = "job_1"
    errors = list(_validator(files, "processing_completed").iter_errors(event))
    assert [e.validator for e in errors] == ["additionalProperties"]


def test_missing_required_and_wrong_source(files):
    event = copy.deepcopy(CANONICAL)
    del event["properties"]["job_id"]
    event["source"] = "web"  # processing_completed is not sent from the browser
    errors = sorted(
        e.validator for e in _validator(files, "processing_completed").iter_errors(event)
    )
    assert errors == ["enum", "required"]


def test_user_id_required_after_login(files):
    event = copy.deepcopy(CANONICAL)
    event["user_id"] = None
    assert [e.validator for e in _validator(files, "processing_completed").iter_errors(event)] == [
        "type"
    ]


def test_deprecated_alias_is_allowed_and_marked(files):
    schema = json.loads(
        files[target.PurePosixPath("jsonschema", "events", "processing_completed.schema.json")]
    )
    alias = schema["properties"]["properties"]["properties"]["success_bool"]
    assert alias["deprecated"] is True and alias["x-replaced-by"] == "success"


def test_render_is_deterministic(plan):
    assert target.render(plan) == target.render(plan)


def test_minimal_plan_golden(minimal_plan, golden):
    golden(
        "minimal/jsonschema",
        {p.relative_to("jsonschema"): t for p, t in target.render(minimal_plan).items()},
    )
