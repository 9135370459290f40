"""Embedded mode: with no REDIS_URL, jobs run in a background thread of the web process."""

import io
import itertools
import threading
import time

import pytest

import scorers
from app.extensions import db
from app.models import PLATFORM_ERROR, HealthCheck, Role, Submission, SubmissionStatus
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.queue import ThreadJobQueue, enqueue, get_queue
from tests.helpers import PASSWORD, make_user, predictions_csv, write_bundle

RELEASE = threading.Event()


def never_ends_outside_python() -> None:
    """A job stuck where no exception reaches it (in C, waiting on a lock) until the test releases it."""
    RELEASE.wait()


def test_without_redis_jobs_run_in_a_thread(app):
    with app.app_context():
        assert isinstance(get_queue(), ThreadJobQueue)
        check = HealthCheck()
        db.session.add(check)
        db.session.commit()
        enqueue("workers.jobs.health_check", check.id)
        get_queue().join()
        db.session.expire_all()
        done = db.session.get(HealthCheck, check.id)
        assert done.completed_at is not None and done.worker
        assert done.latency_seconds >= 0


def test_unknown_job_is_refused_when_enqueued(app):
    with app.app_context(), pytest.raises((ImportError, AttributeError)):
        enqueue("workers.jobs.no_such_job", 1)


def test_admin_system_page_round_trip(app, client, auth):
    with app.app_context():
        make_user("root", Role.ADMIN)
    auth.login("root", PASSWORD)
    client.post("/admin/system", data={"csrf_token": auth.csrf_token("/admin/system")})
    app.extensions["job_queue"].join()
    page = client.get("/admin/system").get_data(as_text=True)
    assert "in the web process" in page
    assert "waiting for a worker" not in page and ":" in page.split("Answered by", 1)[1]


def test_worker_without_redis_explains_itself(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


def _poll(app, read, done, seconds: float = 60):
    """read() in a fresh session until done(value), or fail after the deadline; returns the value."""
    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            value = read()
            if done(value):
                return value
        assert time.monotonic() < deadline, f"still {value!r} after {seconds} s"
        time.sleep(0.05)


def test_a_scoring_job_past_its_timeout_fails_as_on_a_worker_and_the_next_is_scored(app, tmp_path, monkeypatch):
    """The job is stopped at JOB_TIMEOUT: failed, not counted, as RQ does; the next submission does not wait."""
    app.config.update(JOB_TIMEOUT=1, JOB_STOP_GRACE=5)
    real, calls = scorers.read_submission, itertools.count()

    def first_never_ends(*args, **kwargs):
        if next(calls) == 0:
            while True:
                time.sleep(0.01)
        return real(*args, **kwargs)

    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        competition = import_bundle(folder)
        user = make_user("rita")
        submissions.join(competition, user)
        db.session.commit()
        monkeypatch.setattr(scorers, "read_submission", first_never_ends)
        ids_sent = [
            submissions.submit(competition, user, io.BytesIO(predictions_csv(ids, x)), file_name="p.csv").id
            for _ in range(2)
        ]

    def statuses():
        return [db.session.get(Submission, i).status for i in ids_sent]

    _poll(app, statuses, lambda found: all(status.final for status in found))
    with app.app_context():
        stopped, next_one = (db.session.get(Submission, i) for i in ids_sent)
        assert stopped.status is SubmissionStatus.FAILED and stopped.error == PLATFORM_ERROR
        assert stopped.counted is False
        assert next_one.status is SubmissionStatus.SCORED


def test_a_job_that_will_not_stop_is_abandoned_and_the_next_runs(app):
    app.config.update(JOB_TIMEOUT=1, JOB_STOP_GRACE=1)
    RELEASE.clear()
    try:
        with app.app_context():
            stuck = enqueue(f"{__name__}.never_ends_outside_python")
            check = HealthCheck()
            db.session.add(check)
            db.session.commit()
            enqueue("workers.jobs.health_check", check.id)
        done = _poll(app, lambda: db.session.get(HealthCheck, check.id).completed_at, bool, seconds=30)
        assert done is not None and not get_queue_of(app).is_pending(stuck)
    finally:
        RELEASE.set()


def get_queue_of(app) -> ThreadJobQueue:
    return app.extensions["job_queue"]
