"""Watermark-removal jobs: upload, job_created, the worker's events, failures and refunds.

Credits add up: job_created reserves one credit (credits_before = the balance), a completed job
keeps it (credits_after = before - 1), a failed one is refunded (processing_failed leaves
before - 1, job_refunded restores it).
"""

from __future__ import annotations

from typing import Any

from compiler.synth.timeline import hex_id

from . import catalog as c
from . import incidents
from .account import Account

_DURATIONS = ((5, "0-10s"), (20, "10-30s"), (45, "30-60s"), (90, "60s+"))
_RESOLUTIONS = ("720p", "1080p", "1080p", "4k", "sd")


def _media(tl: Account) -> dict[str, Any]:
    r = tl.r
    seconds, bucket = _DURATIONS[int(r.random() * len(_DURATIONS))]
    duration = round(seconds * (0.5 + r.random()), 1)
    size = int(duration * (0.4 + r.random()) * 1_500_000)
    mb = size / 1_000_000
    size_bucket = (
        "0-10mb" if mb < 10 else "10-50mb" if mb < 50 else "50-150mb" if mb < 150 else "150mb+"
    )
    return {
        "video_bytes": size,
        "duration_seconds": duration,
        "video_duration_bucket": bucket,
        "resolution_bucket": _RESOLUTIONS[int(r.random() * len(_RESOLUTIONS))],
        "file_size_bucket": size_bucket,
        "audio_present": r.random() < 0.8,
    }


def abandoned_upload(tl: Account) -> None:
    """Started an upload and left before it finished (no upload_completed)."""
    tl.wait(5, 60)
    tl.emit("upload_started", {"upload_id": "upl_" + hex_id(tl.r)} | _media(tl))


def run_job(tl: Account, *, success: bool, slow: bool = False, returning: bool = False) -> str:
    """One job from upload to its outcome; returns its job_id. Needs a credit."""
    r = tl.r
    upload_id, job_id = "upl_" + hex_id(r), "job_" + hex_id(r)
    media = _media(tl)
    mode = "inpaint" if r.random() < 0.7 else "crop"
    tl.wait(5, 60)
    tl.emit("upload_started", {"upload_id": upload_id} | media)
    tl.wait(2, 40)
    tl.emit("upload_completed", {"upload_id": upload_id} | media)
    if returning:
        tl.emit("upload_returning_user", {"upload_id": upload_id})
    before = tl.credits
    tl.wait(0.2, 1)
    tl.emit(
        "job_created",
        {"job_id": job_id, "mode": mode, "credits_before": before, "upload_id": upload_id},
    )
    tl.credits -= 1
    queue_ms = int(200 + r.random() * 8000)
    tl.t += queue_ms * 1000
    tl.emit("processing_started", {"job_id": job_id, "mode": mode, "queue_wait_ms": queue_ms})
    platform = c.PLATFORMS[int(r.random() * len(c.PLATFORMS))]
    confidence = round(0.55 + r.random() * 0.44, 3)
    tl.wait(1, 4)
    tl.emit(
        "watermark_detected",
        {"job_id": job_id, "detected_platform": platform, "watermark_confidence": confidence},
    )
    if success:
        _complete(tl, job_id, mode, before, queue_ms, slow, platform, returning)
    else:
        _fail(tl, job_id, mode, before, queue_ms, platform)
    return job_id


def _complete(
    tl: Account,
    job_id: str,
    mode: str,
    before: int,
    queue_ms: int,
    slow: bool,
    platform: str,
    returning: bool,
) -> None:
    r = tl.r
    ms = (
        int(c.SLOW_JOB_MS + 1 + r.random() * 180_000) if slow else int(8_000 + r.random() * 100_000)
    )
    tl.t += ms * 1000
    tl.emit(
        "processing_completed",
        {
            "job_id": job_id,
            "mode": mode,
            "processing_time_ms": ms,
            "success": True,
            "credits_before": before,
            "credits_after": before - 1,
            "detected_platform": platform,
            "queue_wait_ms": queue_ms,
            "failure_reason_code": None,
            "status_poll_count": ms // 5000,
        },
    )
    bucket = "<30s" if ms < 30_000 else "30-120s" if ms <= c.SLOW_JOB_MS else ">120s"
    tl.emit(
        "latency_bucket", {"job_id": job_id, "latency_bucket": bucket, "processing_time_ms": ms}
    )
    if returning:
        tl.emit("job_completed_returning_user", {"job_id": job_id})
    if r.random() < 0.6:
        notification = {
            "notification_channel": "email",
            "notification_type": "job_complete",
            "job_id": job_id,
        }
        tl.emit("notification_sent", notification)
        incidents.after_notification(tl, notification)
    if tl.credits <= c.LOW_CREDITS:
        tl.wait(1, 5)
        tl.emit("low_credits_warning_shown", {"credits_balance": tl.credits})


def _fail(tl: Account, job_id: str, mode: str, before: int, queue_ms: int, platform: str) -> None:
    r = tl.r
    reason = _pick(r.random(), c.FAILURES)
    ms = c.TIMEOUT_MS if reason == "timeout" else int(2_000 + r.random() * 60_000)
    tl.t += ms * 1000
    if reason == "timeout":
        tl.emit(
            "job_timeout", {"job_id": job_id, "timeout_ms": c.TIMEOUT_MS, "queue_wait_ms": queue_ms}
        )
    tl.emit(
        "processing_failed",
        {
            "job_id": job_id,
            "mode": mode,
            "success": False,
            "failure_reason_code": reason,
            "error_code": f"E_{reason.upper()}",
            "processing_time_ms": ms,
            "queue_wait_ms": queue_ms,
            "credits_before": before,
            "credits_after": before - 1,
            "detected_platform": platform,
        },
    )
    tl.wait(0.5, 3)
    tl.emit(
        "error_shown",
        {
            "error_code": f"E_{reason.upper()}",
            "error_message": "We could not process this video.",
            "job_id": job_id,
        },
    )
    tl.wait(0.5, 5)
    tl.emit(
        "job_refunded",
        {
            "job_id": job_id,
            "credits_before": before - 1,
            "credits_after": before,
            "credits_refunded": 1,
            "failure_reason_code": reason,
        },
    )
    tl.credits += 1
    incidents.after_job_failure(tl, job_id, reason)


def download(tl: Account, job_id: str, attempt: int = 1) -> None:
    tl.wait(3, 60)
    tl.emit("download_clicked", {"job_id": job_id, "download_attempt": attempt})
    tl.wait(1, 20)
    tl.emit("download_completed", {"job_id": job_id, "download_attempt": attempt})


def _pick(u: float, weighted: tuple[tuple[str, float], ...]) -> str:
    for name, weight in weighted:
        if u < weight:
            return name
        u -= weight
    return weighted[-1][0]
