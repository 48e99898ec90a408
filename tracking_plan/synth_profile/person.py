"""One person's whole life in the export: the first session, jobs, purchase, then what follows.

After the first download the person either comes back within 30 days (return sessions with jobs,
top-ups when credits run out) or never does; subscriptions renew monthly until canceled, and a
few one-time packs are refunded.
"""

from __future__ import annotations

import math
from typing import Any

from . import billing, incidents, jobs
from . import catalog as c
from .account import Account
from .journey import first_session, page
from .population import Population


def live(tl: Account, pop: Population, i: int) -> None:
    """Emit every event of person i into `tl`."""
    _journey(tl, pop, i)
    # Buyers keep their account (a subscription may still renew); the rest may leave for good.
    incidents.end_of_life(tl, came_back=bool(pop.active[i]) or int(pop.reached[i]) >= 9)


def _journey(tl: Account, pop: Population, i: int) -> None:
    first_session(tl, pop, i)
    reached = int(pop.reached[i])
    if reached == 5 and tl.r.random() < 0.3:
        jobs.abandoned_upload(tl)
    if reached < 6:
        return
    # The pause before the first upload (time to first value); a long one is a new visit.
    delay = float(pop.first_job_delay_s[i])
    tl.t += int(delay * c.SECOND_US)
    if delay > c.SESSION_IDLE_S:
        tl.new_session()
    for _ in range(int(pop.failed_before[i])):
        jobs.run_job(tl, success=False)
    if reached < 7:
        return
    job_id = jobs.run_job(tl, success=True, slow=bool(pop.slow[i]))
    if reached < 8:
        return
    jobs.download(tl, job_id)
    downloaded_at = tl.rows[-2][0]
    order = billing.purchase(tl, c.PRICE_LIST[pop.product[i]]) if reached >= 9 else None
    _later(tl, pop, i, downloaded_at, order)


def _happenings(tl: Account, pop: Population, i: int, t8: int, order: dict[str, Any] | None):  # type: ignore[no-untyped-def]
    r = tl.r
    end = int(pop.arrival_us[i]) + c.HORIZON_DAYS * c.DAY_US
    events: list[tuple[int, str]] = []
    if pop.active[i]:
        # The first return is within 30 days of the first download (and a day after buying).
        t = t8 + int((1 + r.random() * 28) * c.DAY_US)
        for _ in range(int(pop.returns[i])):
            if t >= end:
                break
            events.append((t, "return"))
            t += int((2 + r.random() * 13) * c.DAY_US)
    if order is not None:
        events += _billing_dates(tl, pop, i, order, end)
    return sorted(events)


def _billing_dates(tl: Account, pop: Population, i: int, order: dict[str, Any], end: int):  # type: ignore[no-untyped-def]
    r, product, t9 = tl.r, order["product"], tl.t
    if product.billing_period == "one-time":
        if r.random() < c.REFUND_SHARE:
            return [(t9 + int((1 + r.random() * 4) * c.DAY_US), "refund")]
        return []
    if product.billing_period != "monthly":
        return []
    out = []
    cancel_p = c.MONTHLY_CANCEL if pop.active[i] else c.MONTHLY_CANCEL_IF_CHURNED
    renewal = t9 + 30 * c.DAY_US
    while renewal < end:
        if r.random() < cancel_p:
            out.append((renewal - int((1 + r.random() * 20) * c.DAY_US), "cancel"))
            break
        out.append((renewal, "renew"))
        renewal += 30 * c.DAY_US
    return out


def _later(tl: Account, pop: Population, i: int, t8: int, order: dict[str, Any] | None) -> None:
    for when, kind in _happenings(tl, pop, i, t8, order):
        last_seen = tl.t
        tl.t = max(tl.t, when)
        if kind == "return":
            _return_session(tl, pop, i, last_seen, order is not None)
        elif order is not None:  # billing dates exist only for buyers
            {"renew": billing.renew, "cancel": billing.cancel, "refund": billing.refund}[kind](
                tl, order
            )


def _return_session(tl: Account, pop: Population, i: int, last_seen: int, buyer: bool) -> None:
    r = tl.r
    tl.new_session()
    tl.last_browser_us = tl.t
    hours = round((tl.t - last_seen) / c.HOUR_US, 2)
    tl.emit(
        "return_session", {"hours_since_last_session": hours, "session_number": tl.sessions_started}
    )
    tl.wait(2, 20)
    tl.emit("upload_view", page(pop, i, "/app/upload") | {"credits_balance": tl.credits})
    for _ in range(1 + min(int(-3.0 * math.log(1.0 - r.random())), 7)):  # 1-8 jobs, mean ~3.5
        if buyer and tl.credits <= 2 and (tl.credits < 1 or r.random() < 0.5):
            billing.topup(tl)
        if tl.credits < 1:
            tl.emit("paywall_view", {"paywall_reason": "out_of_credits", "credits_balance": 0})
            return
        _returning_job(tl)


def _returning_job(tl: Account) -> None:
    r = tl.r
    success = r.random() < c.RETURN_JOB_SUCCESS
    job_id = jobs.run_job(tl, success=success, slow=r.random() < 0.1, returning=True)
    if success and r.random() < 0.85:
        jobs.download(tl, job_id)
    if success and r.random() < 0.05:
        tl.emit("share_clicked", {"job_id": job_id, "share_method": "copy_link"})
