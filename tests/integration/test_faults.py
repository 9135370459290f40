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
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import psycopg2
import pytest

from app.extensions import db
from app.models import PLATFORM_ERROR, Competition, Submission, SubmissionStatus, User
from app.models.types import utcnow
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.queue import get_queue
from tests import services
from tests.conftest import make_app
from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle
from workers.reaper import reap

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]
REPO = Path(__file__).resolve().parents[2]


def _platform(database_url, tmp_path, job_timeout: int):
    """The app on PostgreSQL and Redis, a joined researcher and a competition, as a dict for the tests."""
    settings = {
        "REDIS_URL": services.redis_url(),
        "RQ_QUEUE": f"test-{uuid.uuid4().hex}",
        "JOB_TIMEOUT": job_timeout,
        "REAPER_GRACE": 1,
    }
    app = make_app(database_url, tmp_path, **settings)
    folder, ids, _, x = write_bundle(tmp_path / "bundle", n=3000)
    with app.app_context():
        import_bundle(folder)
        token = make_token(make_user("rita"))
    client = app.test_client()
    client.post("/api/v1/competitions/test-comp/join", headers=bearer(token), json={"accept_rules": True})
    return {
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


def _clean_up(f) -> None:
    with f["app"].app_context():
        get_queue().queue.delete(delete_jobs=True)
        db.engine.dispose()


@pytest.fixture
def faulty(database_url, tmp_path):
    """The platform with short timeouts."""
    platform = _platform(database_url, tmp_path, job_timeout=5)
    yield platform
    _clean_up(platform)


@pytest.fixture
def patient(database_url, tmp_path):
    """The platform with the default ten minutes per job: only a worker's silence can explain a quick retry."""
    platform = _platform(database_url, tmp_path, job_timeout=600)
    yield platform
    _clean_up(platform)


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


def _worker(f, burst: bool = True, fork: bool = False, **settings: str) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": f["database_url"],
        "REDIS_URL": f["settings"]["REDIS_URL"],
        "RQ_QUEUE": f["settings"]["RQ_QUEUE"],
        "STORAGE_URL": f["storage"],
        "SECRET_KEY": "t",
        **settings,
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
    # A large file, invalid on purpose (far more rows than the test set), which fails once it is read.
    big = faulty["tmp_path"] / "big.csv"
    big.write_bytes(predictions_csv(big_ids, rng.random(len(big_ids))))
    with app.app_context(), big.open("rb") as handle:
        competition = db.session.execute(db.select(Competition)).scalar_one()
        user = db.session.execute(db.select(User).where(User.username == "rita")).scalar_one()
        submission_id = submissions.submit(competition, user, handle, file_name="big.csv").id
    with _job_held_mid_way(faulty):
        worker = _worker(faulty, burst=False, fork=fork)
        _wait_for(lambda: _submission(app, submission_id).status is SubmissionStatus.SCORING, 60, "never started")
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
    assert "1,000,000 lines below its header" in final.error and final.counted is False


@contextlib.contextmanager
def _job_held_mid_way(f) -> Iterator[None]:
    """A scoring job claims its submission, then reads its competition: while this lock is held it waits
    there, caught in the middle however fast the machine."""
    blocker = psycopg2.connect(f["database_url"])
    try:
        blocker.cursor().execute("LOCK TABLE competitions IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        blocker.rollback()
        blocker.close()


def _children(pid: int) -> list[int]:
    """The processes whose parent is pid, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # The command name, in parentheses, may hold spaces: the fields that follow it are counted from its end.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(condition, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists a worker's children through Linux's /proc")
@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forked"])
def test_a_killed_worker_leaves_no_child_and_its_job_is_scored_by_another_within_a_minute(patient, fork):
    """SIGKILL of the worker alone: its children die with it, and its silence, not the job's ten-minute timeout,
    gets the submission re-enqueued and scored by a second worker."""
    f, app = patient, patient["app"]
    submission_id = _submit(f, predictions_csv(f["ids"], f["x"]))
    with _job_held_mid_way(f):
        first = _worker(f, burst=False, fork=fork, HEARTBEAT_TTL="3", REAPER_INTERVAL="0")
        _wait_for(lambda: _submission(app, submission_id).status is SubmissionStatus.SCORING, 60, "never started")
        children = _children(first.pid)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        try:
            _wait_for(lambda: not any(map(_running, children)), 20, f"children {children} outlived their worker")
        finally:
            for child in filter(_running, children):
                os.kill(child, signal.SIGKILL)
    assert _submission(app, submission_id).status is SubmissionStatus.SCORING

    second = _worker(f, burst=False, HEARTBEAT_TTL="3", REAPER_INTERVAL="1")
    try:
        _wait_for(lambda: _submission(app, submission_id).status.final, 120, "never scored again")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    final = _submission(app, submission_id)
    assert final.status is SubmissionStatus.SCORED and final.requeues == 1
    assert final.worker.rsplit(":", 1)[1] == str(second.pid)
