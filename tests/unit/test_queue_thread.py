"""Embedded mode: with no REDIS_URL, jobs run in a background thread of the web process."""

import pytest

from app.extensions import db
from app.models import HealthCheck, Role
from app.services.queue import ThreadJobQueue, enqueue, get_queue
from tests.helpers import PASSWORD, make_user


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
