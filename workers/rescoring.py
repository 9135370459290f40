"""Rescoring a whole competition, with the list of scores that changed."""

from __future__ import annotations

import math

from app.extensions import db
from app.models import Rescore, Submission, SubmissionStatus
from app.models.types import utcnow
from app.services.competitions import leaderboards
from workers.context import job_context
from workers.scoring import score_submission


def _same(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old is new
    return math.isclose(old, new, rel_tol=0, abs_tol=0)


def rescore_competition(rescore_id: int) -> int:
    """Score again every scored or failed submission of the competition; returns how many changed."""
    with job_context():
        rescore = db.session.get_one(Rescore, rescore_id)
        competition = rescore.competition
        submissions = db.session.execute(
            db.select(Submission)
            .where(
                Submission.competition_id == competition.id,
                Submission.status.in_([SubmissionStatus.SCORED, SubmissionStatus.FAILED]),
            )
            .order_by(Submission.id)
        ).scalars()
        before = {s.id: (s.status.value, s.public_score, s.private_score, s.user.username) for s in submissions}
        for submission_id in before:
            submission = db.session.get_one(Submission, submission_id)
            submission.status = SubmissionStatus.QUEUED
            db.session.commit()
            score_submission(submission_id)
        db.session.expire_all()
        changes = []
        for submission_id, (status, public, private, participant) in before.items():
            now = db.session.get_one(Submission, submission_id)
            if (
                now.status.value != status
                or not _same(public, now.public_score)
                or not _same(private, now.private_score)
            ):
                changes.append(
                    {
                        "submission_id": submission_id,
                        "participant": participant,
                        "status": [status, now.status.value],
                        "public": [public, now.public_score],
                        "private": [private, now.private_score],
                    }
                )
        rescore = db.session.get_one(Rescore, rescore_id)
        rescore.rescored = len(before)
        rescore.changes = changes
        rescore.finished_at = utcnow()
        db.session.commit()
        leaderboards.invalidate(competition)
        return len(changes)
