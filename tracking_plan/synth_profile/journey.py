"""The first session: ad click, landing, signup, the email loop, login and free credits.

Each step runs only for people who reached its state, so a person fires S_k's event exactly when
the population draw says they reached S_k.
"""

from __future__ import annotations

from typing import Any

from compiler.synth.timeline import hex_id

from . import catalog as c
from .account import Account
from .population import Population


def attribution(pop: Population, i: int, r: Any) -> dict[str, Any]:
    """UTM tags, one click id (fbclid for Meta, gclid for Google, never both) and ad ids."""
    platform = "meta" if pop.meta[i] else "google"
    campaign = c.CAMPAIGNS[platform][pop.campaign[i]]
    adset = f"{campaign}{pop.adset[i] + 1:02d}"
    ad = f"{adset}{pop.ad[i] + 1:02d}"
    angle = c.AD_ANGLES[(pop.campaign[i] + pop.ad[i]) % len(c.AD_ANGLES)]
    out: dict[str, Any] = {
        "utm_source": "facebook" if platform == "meta" else "google",
        "utm_medium": "paid_social" if platform == "meta" else "cpc",
        "utm_campaign": c.CAMPAIGN_NAMES[pop.campaign[i]],
        "utm_content": f"cr_{angle}_{pop.ad[i] + 1}",
        "ad_platform": platform,
        "campaign_id": campaign,
        "adset_id": adset,
        "ad_id": ad,
        "creative_id": f"cr_{angle}_{pop.ad[i] + 1}",
        "ad_angle": angle,
        "landing_variant_id": c.LANDING_VARIANTS[pop.ad[i]],
    }
    if platform == "meta":
        out["fbclid"] = "IwAR" + hex_id(r, 96)
    else:
        out["gclid"] = "Cj0KCQ" + hex_id(r, 96)
    return out


def page(pop: Population, i: int, path: str) -> dict[str, Any]:
    return {
        "page_path": path,
        "device": c.DEVICES[pop.device[i]][0],
        "geo": c.GEOS[pop.geo[i]],
        "last_touch_channel": "paid_social" if pop.meta[i] else "paid_search",
    }


def first_session(tl: Account, pop: Population, i: int) -> None:
    """S0 to S5; stops at the last state the person reached."""
    r, reached = tl.r, pop.reached[i]
    tl.new_session()
    tl.emit("ad_click", page(pop, i, "/"))
    if reached < 1:
        return
    tl.wait(0.5, 4)
    tl.emit("landing_view", page(pop, i, "/") | {"scroll_depth_bucket": 25})
    if r.random() < 0.3:
        tl.wait(2, 10)
        tl.emit(
            "cookie_consent_updated", {"analytics_allowed": True, "ads_allowed": r.random() < 0.7}
        )
    if pop.pricing[i]:
        tl.wait(5, 60)
        spent = round(5 + r.random() * 90, 1)
        tl.emit("pricing_view", page(pop, i, "/pricing") | {"pricing_time_spent": spent})
    if r.random() < 0.1:
        tl.wait(3, 30)
        topic = c.FAQ_TOPICS[int(r.random() * len(c.FAQ_TOPICS))]
        tl.emit("faq_expand", page(pop, i, "/") | {"faq_topic": topic})
    if reached < 2:
        return
    _signup(tl, pop, i)


def _signup(tl: Account, pop: Population, i: int) -> None:
    r, reached = tl.r, pop.reached[i]
    on_landing = 4 + r.random() * 110
    tl.t += int(on_landing * c.SECOND_US)
    cta = {"cta_id": "get_free_credits", "time_to_first_cta_click": round(on_landing, 1)}
    tl.emit(
        "cta_click",
        page(pop, i, "/") | cta | {"time_on_landing_before_cta": round(on_landing, 1)},
    )
    auth = c.AUTH_METHODS[pop.auth[i]][0]
    tl.wait(1, 3)
    tl.emit("signup_start", page(pop, i, "/signup") | {"auth_method": auth})
    if reached < 3:
        return
    domain = c.EMAIL_DOMAINS[int(r.random() * len(c.EMAIL_DOMAINS))]
    tl.wait(10, 90)
    tl.emit("signup_submit", {"auth_method": auth, "email_domain_type": domain})
    if auth != "google":
        tl.wait(0.2, 2)
        tl.emit("auth_email_sent", {"auth_method": auth, "email_domain_type": domain})
        tl.wait(1, 15)
        tl.emit("auth_email_delivered", {"email_domain_type": domain})
        if r.random() < 0.5:
            tl.wait(20, 3600)
            tl.emit("auth_email_opened", {"email_domain_type": domain})
    if reached < 4:
        return
    if auth != "google":
        tl.wait(5, 600)
        tl.emit("auth_email_link_clicked", {})
    tl.wait(0.5, 3)
    tl.identify("usr_" + hex_id(r, 64), source="web")
    tl.emit(
        "login_success", {"auth_method": auth, "email_domain_type": domain, "account_age_days": 0}
    )
    if reached < 5:
        return
    _credits(tl, pop, i)


def _credits(tl: Account, pop: Population, i: int) -> None:
    grant = int(pop.grant[i])
    tl.wait(0.2, 2)
    tl.credits = grant
    tl.emit(
        "credits_granted",
        {"credits_added": grant, "credits_after": grant, "grant_reason": "signup_bonus"},
    )
    tl.wait(1, 5)
    tl.emit("onboarding_view", page(pop, i, "/welcome"))
    tl.wait(3, 40)
    tl.emit("upload_view", page(pop, i, "/app/upload") | {"credits_balance": tl.credits})
    tl.emit("activation_complete", {})
