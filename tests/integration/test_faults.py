"""Faults: a worker killed mid-job and a Redis queue emptied after an upload; no submission stays stuck."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from app.extensions import db
from app.models import PLATFORM_ERROR, Competition, Submission, SubmissionStatus, User
from app.models.types import utcnow
from app.services import submissions
from app.services.bundles import import_bundle
from app.services.queue import get_queue
from tests import services
from tests.conftest import make_app
from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle
from workers.reaper import reap

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def faulty(database_url, tmp_path):
    """The app on PostgreSQL and Redis with short timeouts, a joined researcher and a competition."""
    settings = {
        "REDIS_URL": services.redis_url(),
        "RQ_QUEUE": f"test-{uuid.uuid4().hex}",
        "JOB_TIMEOUT": 5,
        "REAPER_GRACE": 1,
    }
    app = make_app(database_url, tmp_path, **settings)
    folder, ids, _, x = write_bundle(tmp_path / "bundle", n=3000)
    with app.app_context():
        import_bundle(folder)
        token = make_token(make_user("rita"))
    client = app.test_client()
    client.post("/api/v1/competitions/test-comp/join", headers=bearer(token), json={"accept_rules": True})
    yield {
        "app": app,
        "client": client,
        "token": token,
        "ids": ids,
        "x": x,
        "settings": settings,
        "database_url": database_url,
        "storage": f"file://{tmp_path}/storage",
        "tmp_path": tmp_path,
    }
    with app.app_context():
        get_queue().queue.delete(delete_jobs=True)
        db.engine.dispose()


def _submit(f, content: bytes) -> int:
    response = f["client"].post(
        "/api/v1/competitions/test-comp/submissions",
        headers=bearer(f["token"]),
        data={"file": (io.BytesIO(content), "p.csv")},
    )
    assert response.status_code == 202
    return response.get_json()["id"]


def _submission(app, submission_id: int) -> Submission:
    with app.app_context():
        return db.session.get(Submission, submission_id)


def _worker(f, burst: bool = True, fork: bool = False) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": f["database_url"],
        "REDIS_URL": f["settings"]["REDIS_URL"],
        "RQ_QUEUE": f["settings"]["RQ_QUEUE"],
        "STORAGE_URL": f["storage"],
        "SECRET_KEY": "t",
    }
    args = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--fork" if fork else "--no-fork"]
    args += ["--burst"] if burst else []
    return subprocess.Popen(
        args, cwd=REPO, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_emptied_queue_is_reaped_then_scored(faulty):
    app = faulty["app"]
    submission_id = _submit(faulty, predictions_csv(faulty["ids"], faulty["x"]))
    with app.app_context():
        get_queue().queue.empty()  # Redis lost the job
        assert reap(utcnow() + timedelta(seconds=5)).requeued == [submission_id]
    _worker(faulty).wait(120)
    assert _submission(app, submission_id).status is SubmissionStatus.SCORED


def test_submission_lost_twice_fails_as_not_counted(faulty):
    app = faulty["app"]
    submission_id = _submit(faulty, predictions_csv(faulty["ids"], faulty["x"]))
    with app.app_context():
        for _ in range(2):
            get_queue().queue.empty()
            reap(utcnow() + timedelta(seconds=5))
    submission = _submission(app, submission_id)
    assert submission.status is SubmissionStatus.FAILED
    assert submission.error == PLATFORM_ERROR and submission.counted is False


@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forked"])
def test_worker_killed_mid_job_is_reaped_and_finished(faulty, fork):
    app = faulty["app"]
    big_ids = [f"r{i}" for i in range(1_000_000)]
    rng = np.random.default_rng(0)
    # A large file whose scoring takes long enough to be caught in the middle; it is invalid on purpose
    # (unknown ids), which the scorer only finds after reading it all.
    big = faulty["tmp_path"] / "big.csv"
    big.write_bytes(predictions_csv(big_ids, rng.random(len(big_ids))))
    with app.app_context(), big.open("rb") as handle:
        competition = db.session.execute(db.select(Competition)).scalar_one()
        user = db.session.execute(db.select(User).where(User.username == "rita")).scalar_one()
        submission_id = submissions.submit(competition, user, handle, file_name="big.csv").id
    worker = _worker(faulty, burst=False, fork=fork)
    deadline = time.monotonic() + 60
    while _submission(app, submission_id).status is not SubmissionStatus.SCORING:
        assert time.monotonic() < deadline, "the worker never started the job"
        time.sleep(0.01)
    # Kill the process running the job (a forked work horse has a session of its own) and the worker.
    runner = int(_submission(app, submission_id).worker.rsplit(":", 1)[1])
    os.kill(runner, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    assert _submission(app, submission_id).status is SubmissionStatus.SCORING

    timeout = app.config["JOB_TIMEOUT"] + app.config["REAPER_GRACE"]
    time.sleep(timeout + 0.5)
    with app.app_context():
        assert reap().requeued == [submission_id]
    _worker(faulty).wait(120)
    final = _submission(app, submission_id)
    assert final.status is SubmissionStatus.FAILED and final.requeues == 1
    assert "r0" in final.error and final.counted is False
