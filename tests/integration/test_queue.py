"""Production mode: jobs go through Redis and real RQ workers write their effect to PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from app.extensions import db
from app.models import HealthCheck
from app.services.queue import RQJobQueue, enqueue, get_queue
from tests import services
from tests.conftest import make_app

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]


@pytest.fixture
def rq_app(database_url, tmp_path):
    """The app on PostgreSQL with a Redis queue of this test's own."""
    url = services.redis_url()
    app = make_app(database_url, tmp_path, REDIS_URL=url, RQ_QUEUE=f"test-{uuid.uuid4().hex}")
    yield app
    Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(url)).delete(delete_jobs=True)
    with app.app_context():
        db.engine.dispose()


def _new_check(app) -> int:
    with app.app_context():
        check = HealthCheck()
        db.session.add(check)
        db.session.commit()
        return check.id


def _completed(app, check_id: int) -> HealthCheck:
    with app.app_context():
        return db.session.get(HealthCheck, check_id)


def test_job_runs_on_a_real_simple_worker(rq_app):
    check_id = _new_check(rq_app)
    with rq_app.app_context():
        assert isinstance(get_queue(), RQJobQueue)
        enqueue("workers.jobs.health_check", check_id)
        queue = get_queue().queue
        assert queue.count == 1
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    check = _completed(rq_app, check_id)
    assert check.completed_at is not None and check.worker


@pytest.mark.parametrize("mode", ["--no-fork", "--fork"])
def test_flask_worker_command_runs_jobs(rq_app, mode):
    """`flask worker --burst` runs the jobs in-process, or in a forked child that opens its own connections."""
    first, second = _new_check(rq_app), _new_check(rq_app)
    with rq_app.app_context():
        enqueue("workers.jobs.health_check", first)
        enqueue("workers.jobs.health_check", second)
    result = rq_app.test_cli_runner().invoke(args=["worker", "--burst", mode])
    assert result.exit_code == 0, result.output
    assert _completed(rq_app, first).completed_at and _completed(rq_app, second).completed_at
