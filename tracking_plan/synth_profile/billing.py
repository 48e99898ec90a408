"""Money: the first purchase from the price list, subscriptions, top-ups and refunds."""

from __future__ import annotations

from typing import Any

from compiler.synth.timeline import hex_id

from . import catalog as c
from . import incidents
from .account import Account


def _price(tl: Account, product: c.Product) -> tuple[float, str | None]:
    if tl.r.random() < c.COUPON_SHARE:
        return round(product.price * c.COUPON_DISCOUNT, 2), c.COUPON
    return product.price, None


def _checkout(tl: Account, product: c.Product, price: float, coupon: str | None) -> None:
    tl.emit(
        "checkout_started",
        {
            "sku": product.sku,
            "billing_period": product.billing_period,
            "price": price,
            "currency": "USD",
            "plan": product.plan,
            "coupon": coupon,
            "credits_balance": tl.credits,
            "is_trial": False,
            "payment_provider": "stripe",
        },
    )
    for step in ("plan_selected", "details_entered", "payment_submitted"):
        tl.wait(5, 40)
        tl.emit("checkout_step", {"sku": product.sku, "checkout_step_name": step})
    tl.wait(1, 5)


def purchase(tl: Account, product: c.Product) -> dict[str, Any]:
    """checkout -> purchase_completed (S9); a subscription also starts. Returns the order."""
    tl.wait(10, 300)
    if tl.credits <= c.LOW_CREDITS:
        tl.emit("paywall_view", {"paywall_reason": "out_of_credits", "credits_balance": tl.credits})
        tl.wait(2, 20)
    price, coupon = _price(tl, product)
    _checkout(tl, product, price, coupon)
    order = {"order_id": "cs_" + hex_id(tl.r, 96), "price": price, "product": product}
    subscription_id = "sub_" + hex_id(tl.r, 96) if product.plan else None
    tl.credits += product.credits
    tl.ltv = round(tl.ltv + price, 2)
    body: dict[str, Any] = {
        "order_id": order["order_id"],
        "sku": product.sku,
        "plan": product.plan,
        "billing_period": product.billing_period,
        "price": price,
        "currency": "USD",
        "credits_added": product.credits,
        "coupon": coupon,
        "payment_provider": "stripe",
        "is_trial": False,
        "ltv_to_date": tl.ltv,
    }
    if subscription_id:
        body["subscription_id"] = subscription_id
    tl.emit("purchase_completed", body)
    if subscription_id:
        tl.emit(
            "subscription_started",
            {
                "subscription_id": subscription_id,
                "plan": product.plan,
                "billing_period": product.billing_period,
                "price": price,
                "currency": "USD",
                "is_trial": False,
                "order_id": order["order_id"],
                "coupon": coupon,
            },
        )
    receipt = {"notification_channel": "email", "notification_type": "receipt"}
    tl.emit("notification_sent", receipt)
    incidents.after_notification(tl, receipt)
    order["subscription_id"] = subscription_id
    return order


def renew(tl: Account, order: dict[str, Any]) -> None:
    incidents.before_renewal(tl, order)
    product = order["product"]
    tl.credits += product.credits
    tl.ltv = round(tl.ltv + product.price, 2)
    tl.emit(
        "subscription_renewed",
        {
            "subscription_id": order["subscription_id"],
            "plan": product.plan,
            "billing_period": product.billing_period,
            "price": product.price,
            "currency": "USD",
            "order_id": "in_" + hex_id(tl.r, 96),
            "credits_added": product.credits,
            "ltv_to_date": tl.ltv,
        },
    )


def cancel(tl: Account, order: dict[str, Any]) -> None:
    product = order["product"]
    reason = c.CANCEL_REASONS[int(tl.r.random() * len(c.CANCEL_REASONS))]
    tl.emit(
        "subscription_canceled",
        {
            "subscription_id": order["subscription_id"],
            "plan": product.plan,
            "cancel_reason": reason,
            "billing_period": product.billing_period,
        },
        source="server",
    )


def refund(tl: Account, order: dict[str, Any]) -> None:
    tl.emit(
        "refund_issued",
        {
            "order_id": order["order_id"],
            "refund_amount": order["price"],
            "currency": "USD",
            "payment_provider": "stripe",
            "refund_reason": "requested_by_customer",
        },
    )


def topup(tl: Account) -> None:
    """From the low-credits warning to a credit pack."""
    tl.emit("low_credits_warning_shown", {"credits_balance": tl.credits})
    pack = c.TOPUPS[int(tl.r.random() * len(c.TOPUPS))]
    tl.wait(2, 30)
    tl.emit("low_credits_topup_clicked", {"credits_balance": tl.credits, "sku": pack.sku})
    _checkout(tl, pack, pack.price, None)
    before = tl.credits
    tl.credits += pack.credits
    tl.emit(
        "topup_purchased",
        {
            "order_id": "cs_" + hex_id(tl.r, 96),
            "sku": pack.sku,
            "price": pack.price,
            "currency": "USD",
            "credits_added": pack.credits,
            "credits_before": before,
            "credits_after": tl.credits,
        },
    )
    tl.ltv = round(tl.ltv + pack.price, 2)
