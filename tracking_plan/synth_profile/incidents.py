"""Rare events of a real export: backend and storage errors, failed invoices, plan changes,
notification clicks, data exports and account deletion.

They are emitted with small probabilities inside the flows that cause them (a failed job, a
renewal, a notification, the end of a person's life), so a synthetic export covers every event
of the plan without touching the funnel: none of them marks a state.
"""

from __future__ import annotations

from typing import Any

from compiler.synth.timeline import hex_id

from . import catalog as c
from .account import Account

# The events this module emits: rare by design, so a small export may lack some of them.
EVENTS = (
    "account_deleted",
    "account_deletion_started",
    "api_error",
    "data_export_requested",
    "invoice_failed",
    "notification_clicked",
    "plan_changed",
    "storage_error",
)
API_ERROR_ON_FAILURE = 0.25
STORAGE_ERROR_ON_FAILURE = 0.5  # of failures whose reason is storage_error
INVOICE_FAILS = 0.06
UPGRADES = 0.05
NOTIFICATION_CLICKED = 0.3
DATA_EXPORT = 0.02
DELETES_ACCOUNT = 0.04  # of people who never come back


def after_job_failure(tl: Account, job_id: str, reason: str) -> None:
    r = tl.r
    if reason == "storage_error" and r.random() < STORAGE_ERROR_ON_FAILURE:
        tl.emit(
            "storage_error",
            {"storage_operation": "download", "error_code": "E_STORAGE_READ", "job_id": job_id},
        )
    if r.random() < API_ERROR_ON_FAILURE:
        tl.emit(
            "api_error",
            {
                "endpoint": "/api/jobs/:id",
                "http_status": 502 if reason == "timeout" else 500,
                "error_code": f"E_{reason.upper()}",
                "job_id": job_id,
            },
        )


def before_renewal(tl: Account, order: dict[str, Any]) -> None:
    """A declined card first (retried and paid the same day), or an upgrade, now and then."""
    r, product = tl.r, order["product"]
    if r.random() < INVOICE_FAILS:
        tl.emit(
            "invoice_failed",
            {
                "invoice_id": "in_" + hex_id(r, 96),
                "price": product.price,
                "currency": "USD",
                "payment_provider": "stripe",
                "subscription_id": order["subscription_id"],
                "decline_code": "insufficient_funds",
            },
        )
        tl.wait(3600, 6 * 3600)
    upgrade = next((p for p in c.PRICE_LIST if p.sku == "pro_monthly"), None)
    if product.plan == "starter" and upgrade is not None and r.random() < UPGRADES:
        tl.emit(
            "plan_changed",
            {
                "subscription_id": order["subscription_id"],
                "previous_plan": product.plan,
                "plan": upgrade.plan,
                "change_direction": "upgrade",
                "billing_period": upgrade.billing_period,
                "price": upgrade.price,
                "currency": "USD",
            },
        )
        order["product"] = upgrade  # later renewals bill the new plan


def after_notification(tl: Account, notification: dict[str, Any]) -> None:
    if tl.r.random() < NOTIFICATION_CLICKED:
        tl.wait(60, 3 * 3600)
        tl.emit("notification_clicked", notification, source="web")


def end_of_life(tl: Account, came_back: bool) -> None:
    """A logged-in person who never came back may export their data and delete the account."""
    r = tl.r
    if tl.user_id is None or came_back:
        return
    if r.random() < DATA_EXPORT:
        tl.wait(c.DAY_US / c.SECOND_US, 20 * c.DAY_US / c.SECOND_US)
        tl.emit("data_export_requested", {}, source="web")
    if r.random() < DELETES_ACCOUNT:
        tl.wait(c.DAY_US / c.SECOND_US, 30 * c.DAY_US / c.SECOND_US)
        tl.emit("account_deletion_started", {"deletion_reason": None}, source="web")
        tl.wait(60, 3600)
        tl.emit("account_deleted", {}, source="server")
