"""The shipped BlankLogo plan: complete against the PRD, and clean."""

from __future__ import annotations

from compiler.plan import load_plan
from tests.conftest import PLAN_DIR

PRD_EVENTS = {
    "acquisition": ["ad_click", "landing_view", "cta_click", "pricing_view", "faq_expand"],
    "activation": [
        "signup_start", "signup_submit", "auth_email_sent", "auth_email_delivered",
        "auth_email_opened", "auth_email_link_clicked", "login_success", "credits_granted",
        "onboarding_view", "activation_complete",
    ],
    "product": [
        "upload_view", "upload_started", "upload_completed", "job_created", "watermark_detected",
        "processing_started", "processing_completed", "processing_failed", "download_clicked",
        "download_completed", "job_refunded", "share_clicked",
    ],
    "monetization": [
        "paywall_view", "checkout_started", "checkout_step", "purchase_completed",
        "subscription_started", "subscription_renewed", "subscription_canceled",
        "topup_purchased", "invoice_failed", "refund_issued", "plan_changed",
    ],
    "retention": [
        "return_session", "upload_returning_user", "job_completed_returning_user",
        "low_credits_warning_shown", "low_credits_topup_clicked", "notification_sent",
        "notification_clicked",
    ],
    "reliability": ["error_shown", "api_error", "job_timeout", "storage_error", "latency_bucket"],
    "compliance": [
        "cookie_consent_updated", "account_deletion_started", "account_deleted",
        "data_export_requested",
    ],
}  # fmt: skip


def test_lint_is_clean_even_strict():
    result = load_plan(PLAN_DIR)
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]


def test_all_54_prd_events_in_their_category(plan):
    expected = {e: c for c, events in PRD_EVENTS.items() for e in events}
    assert len(expected) == 54
    assert {e: plan.events[e].category for e in plan.events} == expected
    for event in plan.events.values():
        assert event.description and event.layers


def test_stage_labels_from_prd(plan):
    stages = {
        "acq": {"landing_view", "cta_click"},
        "act": {"login_success", "credits_granted", "activation_complete"},
        "value": {"job_created", "processing_completed", "download_clicked"},
        "rev": {"checkout_started", "purchase_completed"},
        "ret": {"return_session", "job_completed_returning_user"},
        "risk": {"processing_failed", "error_shown", "invoice_failed"},
    }
    for stage, events in stages.items():
        assert {e.name for e in plan.events.values() if stage in e.stages} == events


def test_state_machine_mapping(plan):
    mapping = {s.id: s.event for s in plan.states}
    assert mapping == {
        "S0": "ad_click", "S1": "landing_view", "S2": "cta_click", "S3": "signup_submit",
        "S4": "login_success", "S5": "credits_granted", "S6": "upload_completed",
        "S7": "processing_completed", "S8": "download_clicked", "S9": "purchase_completed",
        "S10": None, "S11": None,
    }  # fmt: skip
    retained, churned = plan.state("S10"), plan.state("S11")
    assert retained.rule.kind == "active_within" and retained.rule.days == 30
    assert churned.rule.kind == "inactive_for" and churned.rule.events == ("processing_completed",)
    assert churned.rule.or_events == ("subscription_canceled",)
    assert [t.name for t in plan.transitions] == [f"S{k}|S{k - 1}" for k in range(1, 11)]


def test_milestones(plan):
    assert {m.name: m.event for m in plan.milestones.values()} == {
        "activated": "activation_complete",
        "first_value": "processing_completed",
        "aha": "download_clicked",
        "monetized": "purchase_completed",
    }


def test_sequence_rules(plan):
    activation = plan.sequence_rules["activation_prerequisites"]
    assert activation.events == ("activation_complete",)
    assert set(activation.requires_before) == {"login_success", "credits_granted", "upload_view"}
    jobs = plan.sequence_rules["job_lifecycle"]
    assert jobs.match_on == "job_id" and jobs.requires_before == ("job_created",)
    assert {"processing_started", "processing_completed", "processing_failed", "watermark_detected",
            "download_clicked", "download_completed", "job_refunded"} == set(jobs.events)  # fmt: skip


def test_meta_mapping(plan):
    got = {(m.event, m.meta_event, m.first_only) for m in plan.meta.mappings}
    assert got == {
        ("landing_view", "PageView", False),
        ("pricing_view", "ViewContent", False),
        ("signup_start", "Lead", False),
        ("login_success", "CompleteRegistration", False),
        ("checkout_started", "InitiateCheckout", False),
        ("purchase_completed", "Purchase", False),
        ("processing_completed", "AddToCart", True),
    }
    purchase = plan.meta.for_event("purchase_completed")
    assert (purchase.value_property, purchase.currency_property) == ("price", "currency")


def test_prd_contradictions_resolved_as_deprecated_aliases(plan):
    aliases = {
        "success_bool": "success",
        "failure_reason": "failure_reason_code",
        "resolution": "resolution_bucket",
        "utm_adset": "adset_id",
        "landing_variant": "landing_variant_id",
        "mode_selected": "mode",
        "watermark_type": "detected_platform",
    }
    for old, new in aliases.items():
        assert plan.properties[old].deprecated and plan.properties[old].replaced_by == new
        assert not plan.properties[new].deprecated
    assert plan.deprecated_events["topup_clicked"].replaced_by == "low_credits_topup_clicked"
    assert plan.deprecated_events["job_completed"].replaced_by == "processing_completed"


def test_required_means_always_sendable(plan):
    # fbclid and gclid are never both present, so neither can be required anywhere.
    for event in plan.events.values():
        names = {p.name for p in event.required}
        assert not names & {"fbclid", "gclid"}, event.name
    assert plan.properties["failure_reason_code"].nullable
    assert not plan.events["processing_completed"].get("failure_reason_code").required


def test_identity_rule(plan):
    assert plan.identity.stitch_on == "login_success"
    assert set(plan.identity.methods) == {"identify", "alias"}


def test_layers_follow_prd_section_8(plan):
    assert plan.events["processing_completed"].layers == ("worker", "server")
    assert plan.events["landing_view"].layers == ("web",)
    assert "server" in plan.events["purchase_completed"].layers
    assert "web" not in plan.events["purchase_completed"].layers
