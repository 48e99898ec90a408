"""The generated Python package sending through the real posthog-python client to a local
capture server: what lands on the wire is what the plan says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from capture_server import Recorder, capture_server
from generated_packages import python_package
from posthog import Posthog

from compiler.plan import Plan
from tests.codegen_plans import free_environment_plan, orbit_plan


@pytest.fixture(scope="module")
def orbit(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return orbit_plan(tmp_path_factory)


@pytest.fixture(scope="module")
def analytics(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    with python_package(plan, tmp_path_factory.mktemp("py")) as module:
        yield module


@pytest.fixture
def server() -> Iterator[Recorder]:
    with capture_server() as recorder:
        yield recorder


def client(server: Recorder, **options: Any) -> Posthog:
    return Posthog("phc_test", host=server.url, sync_mode=True, **options)


JOB = dict(
    job_id="job_9",
    mode="inpaint",
    processing_time_ms=41_000,
    success=True,
    credits_before=3,
    credits_after=2,
)


@pytest.mark.parametrize("gzip", [False, True])
def test_event_reaches_posthog_with_envelope(
    analytics: ModuleType, server: Recorder, gzip: bool
) -> None:
    tracker = analytics.Tracker(
        client=client(server, gzip=gzip), source="worker", environment="staging"
    )
    when = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    event_id = tracker.processing_completed(
        distinct_id="usr_1", user_id="usr_1", session_id="sess_42", timestamp=when, **JOB
    )
    assert server.paths() == ["/batch/"]
    [sent] = server.events()
    assert sent["event"] == "processing_completed"
    assert sent["distinct_id"] == "usr_1"
    assert sent["uuid"] == event_id
    assert sent["timestamp"].startswith("2026-11-20T12:30:00")
    props = sent["properties"]
    assert {k: props[k] for k in JOB} == JOB
    assert props["source"] == "worker" and props["environment"] == "staging"
    assert props["user_id"] == "usr_1"
    assert props["$session_id"] == "sess_42" and "session_id" not in props
    assert props["$lib"] == "posthog-python"
    # optional arguments left out are not sent as nulls
    assert "watermark_confidence" not in props and "utm_source" not in props


def test_identify_stitches_anonymous_person(analytics: ModuleType, server: Recorder) -> None:
    tracker = analytics.Tracker(client=client(server), source="server")
    tracker.identify(user_id="usr_7", anonymous_id="anon_abc")
    [sent] = server.events()
    assert sent["event"] == "$identify"
    assert sent["distinct_id"] == "usr_7"
    assert sent["properties"]["$anon_distinct_id"] == "anon_abc"


def test_alias_sends_create_alias(analytics: ModuleType, server: Recorder) -> None:
    analytics.Tracker(client=client(server), source="server").alias(
        user_id="usr_7", anonymous_id="anon_abc"
    )
    [sent] = server.events()
    assert sent["event"] == "$create_alias"
    assert sent["properties"]["alias"] == "usr_7"
    assert sent["properties"]["distinct_id"] == "anon_abc"


@pytest.mark.parametrize(
    "user_id, anonymous_id", [("anon_x", "anon_x"), ("usr_1", "null"), ("bob", "anon_1")]
)
def test_identify_refuses_bad_ids(
    analytics: ModuleType, server: Recorder, user_id: str, anonymous_id: str
) -> None:
    tracker = analytics.Tracker(client=client(server), source="web")
    with pytest.raises(analytics.TrackingViolation):
        tracker.identify(user_id=user_id, anonymous_id=anonymous_id)
    assert server.events() == []


def test_wrong_enum_value_raises_and_sends_nothing(analytics: ModuleType, server: Recorder) -> None:
    tracker = analytics.Tracker(client=client(server), source="worker")
    with pytest.raises(analytics.TrackingViolation) as caught:
        tracker.processing_completed(
            distinct_id="usr_1", user_id="usr_1", **{**JOB, "mode": "blur"}
        )
    assert "mode" in str(caught.value)
    assert server.events() == []


def test_constraint_and_required_envelope_checked(analytics: ModuleType, server: Recorder) -> None:
    tracker = analytics.Tracker(client=client(server), source="worker")
    with pytest.raises(analytics.TrackingViolation) as caught:
        tracker.processing_completed(
            distinct_id="usr_1", user_id=None, **{**JOB, "processing_time_ms": -5}
        )
    problems = " ".join(caught.value.problems)
    assert "user_id: required" in problems and "processing_time_ms" in problems


def test_log_policy_sends_and_warns(
    analytics: ModuleType, server: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = analytics.Tracker(client=client(server), source="worker", on_violation="log")
    tracker.processing_completed(distinct_id="usr_1", user_id="usr_1", **{**JOB, "mode": "blur"})
    assert [e["properties"]["mode"] for e in server.events()] == ["blur"]
    assert "tracking plan violation (sent anyway): processing_completed" in caplog.text


def test_drop_policy_warns_and_sends_nothing(
    analytics: ModuleType, server: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = analytics.Tracker(client=client(server), source="worker", on_violation="drop")
    assert (
        tracker.processing_completed(
            distinct_id="usr_1", user_id="usr_1", **{**JOB, "mode": "blur"}
        )
        is None
    )
    assert server.events() == []
    assert "(dropped)" in caplog.text


def test_layers_restrict_methods(analytics: ModuleType) -> None:
    worker = analytics.WorkerTracker(Posthog("phc_test", host="http://127.0.0.1:9", disabled=True))
    assert hasattr(worker, "processing_completed")
    assert not hasattr(worker, "landing_view")
    web = analytics.Tracker(client=worker.client, source="web")
    assert isinstance(web, analytics.WebTracker) and hasattr(web, "landing_view")


def test_runtime_layer_guard_for_untyped_callers(analytics: ModuleType, server: Recorder) -> None:
    worker = analytics.WorkerTracker(client(server))
    with pytest.raises(analytics.TrackingViolation, match="does not allow landing_view"):
        analytics.events.LandingViewEmitter.landing_view(
            worker, distinct_id="anon_1", page_path="/", device="desktop"
        )
    assert server.events() == []


def test_naive_timestamp_is_a_violation(analytics: ModuleType, server: Recorder) -> None:
    tracker = analytics.Tracker(client=client(server), source="worker")
    with pytest.raises(analytics.TrackingViolation, match="timezone-aware"):
        tracker.processing_completed(
            distinct_id="usr_1", user_id="usr_1", timestamp=datetime(2026, 1, 1), **JOB
        )


@pytest.mark.parametrize(
    "bad", [{"source": "mobile"}, {"environment": "qa"}, {"on_violation": "ignore"}]
)
def test_bad_tracker_options(analytics: ModuleType, bad: dict[str, str]) -> None:
    options = {"source": "server", **bad}
    with pytest.raises(ValueError):
        analytics.Tracker(client=Posthog("phc_test", disabled=True), **options)


def test_unknown_envelope_keyword_is_a_violation(analytics: ModuleType, server: Recorder) -> None:
    tracker = analytics.Tracker(client=client(server), source="worker")
    with pytest.raises(analytics.TrackingViolation, match="utm_sauce: not an envelope field"):
        tracker.processing_completed(distinct_id="usr_1", user_id="usr_1", utm_sauce="x", **JOB)
    assert server.events() == []


def test_envelope_keywords_go_inside_properties(analytics: ModuleType, server: Recorder) -> None:
    tracker = analytics.Tracker(client=client(server), source="web")
    tracker.landing_view(
        distinct_id="anon_1", page_path="/", device="mobile", utm_source="facebook", referrer=None
    )
    [sent] = server.events()
    assert sent["properties"]["utm_source"] == "facebook"
    assert sent["properties"]["page_path"] == "/" and "referrer" not in sent["properties"]


# Plans unlike BlankLogo's: what reaches PostHog follows their own envelope roles.


@pytest.fixture(scope="module")
def orbit_package(orbit: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    with python_package(orbit, tmp_path_factory.mktemp("orbit")) as module:
        yield module


@pytest.fixture(scope="module")
def mini_package(
    minimal_plan: Plan, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    with python_package(minimal_plan, tmp_path_factory.mktemp("mini")) as module:
        yield module


def test_renamed_roles_reach_posthog_under_the_plans_names(
    orbit_package: ModuleType, server: Recorder
) -> None:
    # The environment enum is [production, staging]: the default is the plan's, not "prod".
    tracker = orbit_package.Tracker(client=client(server), source="api")
    assert tracker.environment == "production"
    when = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    event_id = tracker.ride_booked(
        visitor_id="m_1",
        member_id="m_1",
        ride_id="ride_9",
        fare=12.5,
        currency="EUR",
        seats=2,
        promo_code="SPRING",
        sent_at=when,
        message_id="0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    )
    staging = orbit_package.Tracker(client=client(server), source="api", environment="staging")
    staging.ride_searched(visitor_id="v_1", seats=3)
    booked, searched = server.events()
    assert booked["event"] == "ride_booked" and booked["distinct_id"] == "m_1"
    assert booked["uuid"] == event_id == "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    assert booked["timestamp"].startswith("2026-11-20T12:30:00")
    props = booked["properties"]
    assert props["origin"] == "api" and props["env"] == "production"
    assert props["member_id"] == "m_1" and props["promo_code"] == "SPRING"
    assert {k: props[k] for k in ("ride_id", "fare", "currency", "seats")} == {
        "ride_id": "ride_9",
        "fare": 12.5,
        "currency": "EUR",
        "seats": 2,
    }
    assert not {"source", "environment", "visitor_id", "sent_at", "message_id"} & set(props)
    assert searched["properties"]["env"] == "staging" and searched["distinct_id"] == "v_1"


def test_renamed_roles_are_checked(orbit_package: ModuleType, server: Recorder) -> None:
    with pytest.raises(ValueError, match="unknown environment 'prod'"):
        orbit_package.Tracker(client=client(server), source="api", environment="prod")
    tracker = orbit_package.Tracker(client=client(server), source="kiosk")
    with pytest.raises(orbit_package.TrackingViolation, match="sent_at must be timezone-aware"):
        tracker.screen_viewed(visitor_id="v_1", screen_name="home", sent_at=datetime(2026, 1, 1))
    with pytest.raises(orbit_package.TrackingViolation, match="timestamp: not an envelope field"):
        tracker.screen_viewed(visitor_id="v_1", screen_name="home", timestamp=None)
    api = orbit_package.Tracker(client=client(server), source="api")
    with pytest.raises(orbit_package.TrackingViolation, match="member_id: required"):
        api.ride_booked(
            visitor_id="v_1", member_id=None, ride_id="ride_1", fare=1.0, currency="EUR", seats=1
        )
    with pytest.raises(orbit_package.TrackingViolation):
        api.identify(user_id="usr_1", anonymous_id="v_1")  # this plan's members are m_...
    assert server.events() == []
    # Browser layers of any name have trackers too (posthog-python is for servers, but the
    # classes exist for every layer); layers still restrict the events.
    assert hasattr(tracker, "screen_viewed") and not hasattr(tracker, "ride_booked")
    assert isinstance(
        orbit_package.Tracker(client=tracker.client, source="mobile_web"),
        orbit_package.MobileWebTracker,
    )


def test_plan_without_environment_or_session_sends(
    mini_package: ModuleType, server: Recorder
) -> None:
    # The bug this replaces: every call failed with "timestamp, source, environment: extra
    # inputs" when the envelope had no environment field.
    tracker = mini_package.Tracker(client=client(server), source="server")
    assert not hasattr(tracker, "environment")
    event_id = tracker.job_created(distinct_id="u1", job_id="job_1", mode="crop", user_id="u1")
    with pytest.raises(TypeError):
        mini_package.Tracker(client=client(server), source="server", environment="prod")
    [sent] = server.events()
    assert sent["event"] == "job_created" and sent["distinct_id"] == "u1"
    assert sent["uuid"] == event_id
    props = sent["properties"]
    assert props["source"] == "server" and props["user_id"] == "u1"
    assert props["job_id"] == "job_1" and props["mode"] == "crop"
    assert "environment" not in props and "$session_id" not in props
    assert not hasattr(mini_package, "Environment")


def test_environment_without_values_is_any_string(
    server: Recorder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    plan = free_environment_plan(tmp_path_factory)
    assert plan.codegen.default_environment == "production"
    assert (plan.codegen.python_package, plan.codegen.python_distribution) == (
        "orbit_free",
        "orbit-free",
    )
    with python_package(plan, tmp_path_factory.mktemp("freeenv")) as package:
        default = package.Tracker(client=client(server), source="api")
        qa = package.Tracker(client=client(server), source="api", environment="qa-3")
        default.ride_searched(visitor_id="v_1", seats=1)
        qa.ride_searched(visitor_id="v_1", seats=1)
        with pytest.raises(ValueError, match="non-empty string"):
            package.Tracker(client=client(server), source="api", environment="")
    assert [e["properties"]["env"] for e in server.events()] == ["production", "qa-3"]
