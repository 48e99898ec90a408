"""The generated Meta mapping: Meta's normalisation and hashing, fbc, dedup ids shared by the
Pixel and CAPI, consent, first-only events and the CAPI batch limits. No network: the HTTP post
is injected."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from generated_packages import python_package

from compiler.plan import Plan
from compiler.targets import typescript
from tests.codegen_plans import orbit_plan

WHEN = datetime(2026, 11, 20, 12, 0, 0, 123000, tzinfo=UTC)
PURCHASE = {"price": 19.0, "currency": "USD", "fbclid": "IwAR2xYz_AbC", "order_id": "ord_1"}


@pytest.fixture(scope="module")
def orbit(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return orbit_plan(tmp_path_factory)


@pytest.fixture(scope="module")
def meta(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    with python_package(plan, tmp_path_factory.mktemp("meta")) as package:
        yield package.meta


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("  John_Smith@Gmail.com ", "john_smith@gmail.com"),  # Meta's own example address
        ("JOE@EXAMPLE.COM\n", "joe@example.com"),
    ],
)
def test_email_is_trimmed_lowercased_and_sha256_hex(
    meta: ModuleType, raw: str, normalised: str
) -> None:
    event = meta.capi_event("purchase_completed", PURCHASE, email=raw, event_time=WHEN)
    assert event["user_data"]["em"] == [sha(normalised)]
    assert len(event["user_data"]["em"][0]) == 64


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("+1 (650) 555-1212", "16505551212"),  # Meta's example: digits with country code
        ("0044 20 7946 0958", "442079460958"),  # international prefix zeros dropped
        ("+33-6-12-34-56-78", "33612345678"),
    ],
)
def test_phone_is_digits_with_country_code(meta: ModuleType, raw: str, normalised: str) -> None:
    assert meta.normalize_phone(raw) == normalised
    event = meta.capi_event("purchase_completed", PURCHASE, phone=raw, event_time=WHEN)
    assert event["user_data"]["ph"] == [sha(normalised)]


def test_purchase_server_event(meta: ModuleType) -> None:
    event = meta.capi_event(
        "purchase_completed",
        PURCHASE,
        client_ip="203.0.113.7",
        user_agent="Mozilla/5.0 (X11)",
        event_source_url="https://blanklogo.app/checkout/success",
        event_id="0193e2a4-7c1d-7000-8000-000000000001",
        fbp="fb.1.1732000000000.1234567890",
        event_time=WHEN,
    )
    assert event == {
        "event_name": "Purchase",
        "event_time": int(WHEN.timestamp()),
        "action_source": "website",
        "event_source_url": "https://blanklogo.app/checkout/success",
        "event_id": "0193e2a4-7c1d-7000-8000-000000000001",
        "user_data": {
            "client_ip_address": "203.0.113.7",  # not hashed
            "client_user_agent": "Mozilla/5.0 (X11)",  # not hashed
            "fbc": f"fb.1.{int(WHEN.timestamp() * 1000)}.IwAR2xYz_AbC",  # fbclid case kept
            "fbp": "fb.1.1732000000000.1234567890",
        },
        "custom_data": {"value": 19.0, "currency": "USD"},
    }


def test_fbc_format_and_cookie_wins(meta: ModuleType) -> None:
    assert meta.fbc_value("AbC", WHEN) == "fb.1.1795176000123.AbC"
    event = meta.capi_event("purchase_completed", PURCHASE, fbc="fb.1.1.cookie", event_time=WHEN)
    assert event["user_data"]["fbc"] == "fb.1.1.cookie"


def test_initiate_checkout_has_value_and_pageview_has_none(meta: ModuleType) -> None:
    checkout = meta.capi_event("checkout_started", {"price": 9.5, "currency": "EUR"})
    assert checkout["event_name"] == "InitiateCheckout"
    assert checkout["custom_data"] == {"value": 9.5, "currency": "EUR"}
    page = meta.capi_event("landing_view", {"page_path": "/"})
    assert page["event_name"] == "PageView" and "custom_data" not in page


def test_pixel_and_capi_share_the_dedup_id(meta: ModuleType) -> None:
    event_id = "0193e2a4-7c1d-7000-8000-0000000000aa"
    pixel = meta.pixel_event("purchase_completed", PURCHASE, event_id=event_id)
    server = meta.capi_event("purchase_completed", PURCHASE, event_id=event_id)
    assert pixel == ("track", "Purchase", {"value": 19.0, "currency": "USD"}, {"eventID": event_id})
    assert server["event_id"] == pixel[3]["eventID"] and server["event_name"] == pixel[1]


def test_no_consent_or_unmapped_gives_none(meta: ModuleType) -> None:
    assert meta.capi_event("purchase_completed", PURCHASE, consent_ads=False) is None
    assert meta.capi_event("purchase_completed", {**PURCHASE, "ads_allowed": False}) is None
    assert meta.pixel_event("purchase_completed", PURCHASE, event_id="x", consent_ads=False) is None
    assert meta.capi_event("faq_expand", {"faq_topic": "pricing"}) is None
    assert meta.capi_event("purchase_completed", {**PURCHASE, "ads_allowed": True}) is not None


def test_add_to_cart_only_for_first_processing_completed(meta: ModuleType) -> None:
    props = {"job_id": "job_1", "mode": "inpaint"}
    with pytest.raises(ValueError, match="is_first"):
        meta.capi_event("processing_completed", props)
    seen = meta.FirstOccurrences()
    sent = [
        meta.capi_event(
            "processing_completed", props, is_first=seen.is_first("processing_completed", person)
        )
        for person in ("usr_1", "usr_1", "usr_2", "usr_1")
    ]
    assert [e and e["event_name"] for e in sent] == ["AddToCart", None, "AddToCart", None]


def test_batches_respect_size_and_age_limits(meta: ModuleType) -> None:
    now = WHEN
    fresh = [
        {"event_name": "Purchase", "event_time": int(now.timestamp()) - i} for i in range(2500)
    ]
    old = [
        {
            "event_name": "Purchase",
            "event_time": int((now - timedelta(days=7, seconds=1)).timestamp()),
        }
    ]
    edge = [{"event_name": "Purchase", "event_time": int((now - timedelta(days=7)).timestamp())}]
    split = meta.capi_batches(fresh + old + edge, now=now)
    assert [len(b) for b in split.batches] == [1000, 1000, 501]
    assert split.too_old == tuple(old)


def test_send_capi_posts_through_the_injected_function(meta: ModuleType) -> None:
    posted: list[tuple[str, dict[str, Any]]] = []

    def fake_post(url: str, body: dict[str, Any]) -> dict[str, Any]:
        posted.append((url, body))
        return {"events_received": len(body["data"])}

    events = [{"event_name": "Lead", "event_time": int(WHEN.timestamp())}] * 1001
    answers, split = meta.send_capi(
        events,
        pixel_id="123",
        access_token="tok",
        post=fake_post,
        test_event_code="TEST1",
        now=WHEN,
    )
    assert answers == [{"events_received": 1000}, {"events_received": 1}]
    assert posted[0][0] == "https://graph.facebook.com/v21.0/123/events?access_token=tok"
    assert posted[0][1]["test_event_code"] == "TEST1" and split.too_old == ()


def test_a_plan_without_destinations_gets_no_meta_code(
    orbit: Plan, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert orbit.meta is None  # ORBIT has no `destinations` section at all
    with python_package(orbit, tmp_path_factory.mktemp("nometa")) as package:
        assert not hasattr(package, "meta") and "meta" not in package.__all__
        assert package.PLAN_NAME == "Orbit"
    files = typescript.render(orbit)
    assert not any(p.name == "meta.ts" for p in files)
    assert not any("pixelCall" in text or "fbq" in text for text in files.values())


def test_another_plans_mapping_is_its_own(
    minimal_plan: Plan, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with python_package(minimal_plan, tmp_path_factory.mktemp("minimeta")) as package:
        meta = package.meta
        assert set(meta.MAPPINGS) == {"purchase_completed"}
        event = meta.capi_event("purchase_completed", {"price": 5.0, "currency": "EUR"})
        assert event["event_name"] == "Purchase"
        assert event["custom_data"] == {"value": 5.0, "currency": "EUR"}
        assert meta.capi_event("job_created", {"job_id": "job_1", "mode": "crop"}) is None
