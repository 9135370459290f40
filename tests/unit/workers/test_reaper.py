"""The reaper tells a dead worker's job from a live worker's long one, well before the job's timeout."""

from __future__ import annotations

import io
from datetime import timedelta

from app.extensions import db
from app.models import Submission, SubmissionStatus
from app.models.types import utcnow
from app.services.competitions import submissions
from app.services.queue import process_name
from tests.helpers import make_competition, make_user, predictions_csv, write_bundle
from workers.reaper import reap


def test_the_job_of_a_worker_gone_silent_is_retried_and_a_live_ones_is_left_alone(app, tmp_path):
    _folder, ids, _, x = write_bundle(tmp_path / "ids")
    with app.app_context():
        competition = make_competition(tmp_path)
        user = make_user("rita")
        submissions.join(competition, user)
        db.session.commit()
        sent = [
            submissions.submit(competition, user, io.BytesIO(predictions_csv(ids, x)), file_name="p.csv")
            for _ in range(2)
        ]
        app.extensions["job_queue"].join()
        # Both were taken two minutes ago, far within the ten minutes of JOB_TIMEOUT: one by a process
        # that no longer answers, one by this one, still at work.
        started = utcnow() - timedelta(minutes=2)
        for submission, worker in zip(sent, ["a-pod-that-died:7", process_name()], strict=True):
            submission.status, submission.started_at, submission.worker = SubmissionStatus.SCORING, started, worker
        db.session.commit()
        assert app.config["JOB_TIMEOUT"] == 600
        reaped = reap()
        assert reaped.requeued == [sent[0].id] and reaped.failed == []
        app.extensions["job_queue"].join()
        db.session.expire_all()
        retried, alive = (db.session.get(Submission, s.id) for s in sent)
        assert retried.status is SubmissionStatus.SCORED and retried.requeues == 1
        assert alive.status is SubmissionStatus.SCORING and alive.requeues == 0
