"""The fixed world synth draws from: price list, campaigns, devices and behavioural constants."""

from __future__ import annotations

from dataclasses import dataclass

# The clock's units and the fixed start of every export (the same seed gives the same bytes).
from compiler.synth.timeline import DAY_US as DAY_US
from compiler.synth.timeline import HOUR_US as HOUR_US
from compiler.synth.timeline import SECOND_US as SECOND_US
from compiler.synth.timeline import START_US as START_US

HORIZON_DAYS = 90  # each person is followed for 90 days after their ad click

SLOW_JOB_MS = 120_000  # a job slower than this is "slow" (the >120s latency bucket)
TIMEOUT_MS = 110_000  # the worker's time limit; timeouts are failures, never "slow" jobs
LOW_CREDITS = 1  # a balance at or below this after the first session counts as low
EXTRA_CHURN_IF_LOW_CREDITS = 0.05  # like a config extra, for low credits (not in the config format)
PRICING_VIEW_SHARE = 0.25  # people who open the pricing page in their first session
META_SHARE = 0.65  # the rest comes from Google Ads (gclid)
RETURN_JOB_SUCCESS = 0.9
MONTHLY_CANCEL = 0.2  # per month, for a subscriber who is still active
MONTHLY_CANCEL_IF_CHURNED = 0.5
REFUND_SHARE = 0.03
COUPON = "WELCOME20"
COUPON_SHARE = 0.15
COUPON_DISCOUNT = 0.8


# Every plan event synth emits (besides PostHog's $identify); the plan must define them all.
EVENTS = (
    "account_deleted", "account_deletion_started", "activation_complete", "ad_click", "api_error",
    "auth_email_delivered", "auth_email_link_clicked", "auth_email_opened", "auth_email_sent",
    "checkout_started", "checkout_step", "cookie_consent_updated", "credits_granted", "cta_click",
    "data_export_requested", "download_clicked", "download_completed", "error_shown", "faq_expand",
    "invoice_failed", "job_completed_returning_user", "job_created", "job_refunded", "job_timeout",
    "landing_view", "latency_bucket", "login_success", "low_credits_topup_clicked",
    "low_credits_warning_shown", "notification_clicked", "notification_sent", "onboarding_view",
    "paywall_view", "plan_changed", "pricing_view", "processing_completed", "processing_failed",
    "processing_started", "purchase_completed", "refund_issued", "return_session", "share_clicked",
    "signup_start", "signup_submit", "storage_error", "subscription_canceled",
    "subscription_renewed", "subscription_started", "topup_purchased", "upload_completed",
    "upload_returning_user", "upload_started", "upload_view", "watermark_detected",
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    sku: str
    price: float  # USD
    billing_period: str  # monthly | yearly | one-time
    credits: int
    plan: str | None  # subscription plan; None for credit packs
    weight: float  # share of first purchases


PRICE_LIST: tuple[Product, ...] = (
    Product("pack_10", 9.0, "one-time", 10, None, 0.30),
    Product("pack_50", 29.0, "one-time", 50, None, 0.20),
    Product("starter_monthly", 12.0, "monthly", 20, "starter", 0.20),
    Product("pro_monthly", 29.0, "monthly", 100, "pro", 0.18),
    Product("pro_yearly", 249.0, "yearly", 1200, "pro", 0.04),
    Product("business_monthly", 79.0, "monthly", 400, "business", 0.08),
)
TOPUPS: tuple[Product, ...] = PRICE_LIST[:2]


def expected_purchase_value() -> float:
    """Expected revenue of one purchase within the 90-day horizon (renewals included)."""
    total = 0.0
    for p in PRICE_LIST:
        renewals = 0.0
        if p.billing_period == "monthly":  # renewals at days 30 and 60 while not canceled
            keep = 1 - MONTHLY_CANCEL
            renewals = keep + keep * keep
        total += p.weight * p.price * (1 - COUPON_SHARE * (1 - COUPON_DISCOUNT)) * (1 + renewals)
    return total


# Three campaigns per platform, three ad sets each, two ads each: ids are derived from indexes.
CAMPAIGNS = {
    "meta": ("120210000000001", "120210000000002", "120210000000003"),
    "google": ("21000000001", "21000000002", "21000000003"),
}
CAMPAIGN_NAMES = ("blanklogo_ugc", "blanklogo_quality", "blanklogo_speed")
AD_ANGLES = ("ugc_deliverable", "quality", "speed", "privacy")
LANDING_VARIANTS = ("hero_v3", "hero_v4")
DEVICES = (("desktop", 0.55), ("mobile", 0.40), ("tablet", 0.05))
GEOS = ("US", "US", "US", "GB", "CA", "DE", "AU", "FR", "BR", "IN")
AUTH_METHODS = (("magic_link", 0.6), ("google", 0.3), ("otp", 0.1))
EMAIL_DOMAINS = ("gmail", "gmail", "work", "custom", "other")
GRANTS = ((2, 0.3), (3, 0.5), (5, 0.2))  # free credits at signup and their shares
FAQ_TOPICS = ("pricing", "quality", "privacy", "supported_platforms", "refunds")
PLATFORMS = ("tiktok", "sora", "runway", "pika", "kling", "veo", "capcut")
FAILURES = (
    ("timeout", 0.25),
    ("unsupported_format", 0.15),
    ("no_watermark_detected", 0.2),
    ("inpaint_failed", 0.25),
    ("storage_error", 0.05),
    ("internal_error", 0.1),
)


# The known purchase model (issue 14's synthetic ground truth): each person's P(S9|S8) is
# logistic in what their events show, logit p = intercept + the terms below, with the intercept
# solved so that the population's mean is the config's P(S9|S8). Nothing else is latent, so the
# truth file's purchase_propensity is the best any model of these features can do.
PURCHASE_LOGIT_DEVICE = {"desktop": 0.0, "mobile": -0.9, "tablet": -0.4}
PURCHASE_LOGIT_GEO = {
    "US": 0.4, "GB": 0.3, "CA": 0.3, "DE": 0.1, "AU": 0.2, "FR": 0.0, "BR": -0.8, "IN": -1.0,
}  # fmt: skip
PURCHASE_LOGIT_CAMPAIGN = (0.0, 0.5, -0.4)  # by index into CAMPAIGN_NAMES
PURCHASE_LOGIT_FAILED_JOB = -1.0  # a failed job before the first success
PURCHASE_LOGIT_SLOW_JOB = -0.7  # the first successful job was slow
PURCHASE_LOGIT_PRICING_VIEWED = 1.5  # opened the pricing page in the first session
# Time to first value: the pause between getting the free credits and the first upload is
# lognormal (median FIRST_JOB_DELAY_MEDIAN_S, log-sd FIRST_JOB_DELAY_LOG_SD, so 95% of people
# wait between about 12 seconds and 8 hours); each e-fold longer lowers the logit by 0.3.
FIRST_JOB_DELAY_MEDIAN_S = 600.0
FIRST_JOB_DELAY_LOG_SD = 2.0
PURCHASE_LOGIT_PER_LOG_DELAY = -0.3
SESSION_IDLE_S = 1800  # a pause longer than this starts a new session (PostHog's 30 minutes)

# The known churn model (issue 14's hazard ground truth): each person's P(no return within 30 days
# of the first download) is a proportional hazard over that one 30-day period,
# P = 1 - exp(-exp(eta)), eta = alpha + the log hazard ratios below + a buyer term.
# A failed job, a slow job and low credits take theirs from the config's additive hazard,
# log HR = cloglog(base + extra) - cloglog(base): alone, each moves a person at the base as the
# config says. alpha is solved so that non-buyers' mean is the config's mean of
# clip(base + extras); the buyer term so that buyers' mean return rate is P(S10|S9).
CHURN_LOG_HR_DEVICE = {"desktop": 0.0, "mobile": 0.35, "tablet": 0.2}
CHURN_LOG_HR_GEO = {"BR": 0.3, "IN": 0.3}  # every other geo: 0
CHURN_LOG_HR_CAMPAIGN = (0.0, -0.3, 0.25)  # by index into CAMPAIGN_NAMES

CANCEL_REASONS = ("too_expensive", "not_needed", "quality", "switched_tool", "other")
