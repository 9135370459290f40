"""The reaper: no submission stays queued or scoring forever, whatever happened to a worker or Redis.

A submission whose job vanished (Redis emptied, worker killed) is re-enqueued
once; if it gets stuck again it fails with a platform error that does not count
against the participant's quota. A worker that died mid-job is noticed by its
silence: its heartbeat expires within HEARTBEAT_TTL, long before the job's timeout,
while a live worker's long job is left alone until that timeout.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, current_app

from app.extensions import db
from app.models import PLATFORM_ERROR, Submission, SubmissionStatus
from app.models.types import utcnow
from app.services import metrics
from app.services.competitions import leaderboards
from app.services.competitions.submissions import requeue, scoring_job_id
from app.services.queue import get_queue
from workers.uploads import expire_uploads

log = logging.getLogger(__name__)
MAX_REQUEUES = 1


@dataclass
class Reaped:
    """What one pass of the reaper did."""

    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def _stuck(submission: Submission, now: datetime, timeout: timedelta) -> bool:
    if submission.status is SubmissionStatus.SCORING:
        if submission.started_at is None or now - submission.started_at > timeout:
            return True
        silent = timedelta(seconds=current_app.config["HEARTBEAT_TTL"])
        return now - submission.started_at > silent and not get_queue().is_alive(submission.worker or "")
    # Queued: stuck when its job is gone from the queue, or when it waited far too long anyway.
    since = submission.enqueued_at or submission.submitted_at
    if now - since <= timedelta(seconds=current_app.config["REAPER_GRACE"]):
        return False  # just submitted: the enqueue after the commit may still be on its way
    return not get_queue().is_pending(scoring_job_id(submission)) or now - since > 10 * timeout


def reap(now: datetime | None = None) -> Reaped:
    """Re-enqueue or fail every submission stuck past its timeout; safe to run from many workers at once."""
    now = now or utcnow()
    timeout = timedelta(seconds=current_app.config["JOB_TIMEOUT"] + current_app.config["REAPER_GRACE"])
    reaped = Reaped()
    candidates = db.session.execute(
        db.select(Submission)
        .where(Submission.status.in_([SubmissionStatus.QUEUED, SubmissionStatus.SCORING]))
        .order_by(Submission.id)
        .with_for_update(skip_locked=True)
    ).scalars()
    stuck = [s for s in candidates if _stuck(s, now, timeout)]
    for submission in stuck:
        if submission.requeues < MAX_REQUEUES:
            reaped.requeued.append(submission.id)
        else:
            submission.status = SubmissionStatus.FAILED
            submission.error = PLATFORM_ERROR
            submission.counted = False
            submission.finished_at = now
            reaped.failed.append(submission.id)
    db.session.commit()
    for submission_id in reaped.requeued:
        requeue(db.session.get_one(Submission, submission_id))
    for submission in stuck:
        if submission.id in reaped.failed:
            leaderboards.invalidate(submission.competition)
    metrics.record_reaped(len(reaped.requeued), len(reaped.failed))
    if reaped.requeued or reaped.failed:
        log.warning("reaper re-enqueued %s and failed %s", reaped.requeued, reaped.failed)
    return reaped


def start_reaper_thread(app: Flask, interval: float) -> threading.Thread:
    """Run the reaper every interval seconds in a daemon thread of this process."""

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(interval):
            try:
                with app.app_context():
                    reap()
                    expire_uploads()
            except Exception:
                log.exception("reaper pass failed; trying again in %s s", interval)

    thread = threading.Thread(target=loop, name="playground-reaper", daemon=True)
    thread.start()
    return thread
