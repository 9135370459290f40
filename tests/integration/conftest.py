"""What the integration tests share: the app as deployed (PostgreSQL, Redis with a queue of the test's own, S3)
and a real RQ worker to run what it enqueued."""

from __future__ import annotations

import uuid

import pytest
from rq import SimpleWorker

from app.extensions import db
from app.services.queue import get_queue
from tests import services
from tests.conftest import make_app


@pytest.fixture
def stack(database_url, tmp_path, s3_bucket):
    """The app as deployed: PostgreSQL, a Redis queue of this test's own, and S3 storage."""
    bucket, endpoint = s3_bucket
    app = make_app(
        database_url,
        tmp_path,
        REDIS_URL=services.redis_url(),
        RQ_QUEUE=f"test-{uuid.uuid4().hex}",
        STORAGE_URL=f"s3://{bucket}/playground",
        S3_ENDPOINT_URL=endpoint,
    )
    yield app
    with app.app_context():
        get_queue().queue.delete(delete_jobs=True)
        db.engine.dispose()


def run_worker(app) -> None:
    with app.app_context():
        queue = get_queue().queue
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
