"""`flask worker` and SIGTERM, as a pod's end sends it: the job in hand is finished before the worker exits,
and when the grace period runs out first (SIGKILL) the job is handed to another worker. Either way the
submission ends scored."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from rq import Worker

from app.models import SubmissionStatus
from app.services.queue import get_queue
from tests.helpers import predictions_csv
from tests.integration.test_faults import _job_held_mid_way, _submission, _submit, _wait_for, _worker, patient

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]
__all__ = ["patient"]  # the fixture, shared with the fault tests


@pytest.mark.parametrize("fork", [False, True], ids=["in-process", "forked"])
def test_sigterm_mid_job_lets_the_worker_finish_it_then_exit(patient, fork):
    f, app = patient, patient["app"]
    submission_id = _submit(f, predictions_csv(f["ids"], f["x"]))
    worker = _worker(f, burst=False, fork=fork)
    try:
        with _job_held_mid_way(f):
            _wait_for(lambda: _submission(app, submission_id).status is SubmissionStatus.SCORING, 60, "never started")
            os.kill(worker.pid, signal.SIGTERM)  # the container's main process, as the kubelet signals it
        assert worker.wait(120) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
    final = _submission(app, submission_id)
    assert final.status is SubmissionStatus.SCORED and final.requeues == 0
    assert final.public_score is not None


def test_an_idle_worker_exits_at_once_on_sigterm(patient):
    worker = _worker(patient, burst=False)
    try:
        _wait_for(lambda: _worker_states(patient) == ["idle"], 60, "the worker never waited for a job")
        os.kill(worker.pid, signal.SIGTERM)
        assert worker.wait(20) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)


def test_a_worker_killed_when_its_grace_period_ends_hands_the_job_to_another(patient):
    """SIGTERM, then SIGKILL before the job could end (terminationGracePeriodSeconds too short): the worker's
    heartbeat stops, the reaper of another worker re-enqueues the submission, and that worker scores it."""
    f, app = patient, patient["app"]
    submission_id = _submit(f, predictions_csv(f["ids"], f["x"]))
    first = _worker(f, burst=False, HEARTBEAT_TTL="3", REAPER_INTERVAL="0")
    try:
        with _job_held_mid_way(f):
            _wait_for(lambda: _submission(app, submission_id).status is SubmissionStatus.SCORING, 60, "never started")
            os.kill(first.pid, signal.SIGTERM)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
    assert _submission(app, submission_id).status is SubmissionStatus.SCORING

    second = _worker(f, burst=False, HEARTBEAT_TTL="3", REAPER_INTERVAL="1")
    try:
        _wait_for(lambda: _submission(app, submission_id).status.final, 120, "never scored again")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(60)
    final = _submission(app, submission_id)
    assert final.status is SubmissionStatus.SCORED and final.requeues == 1
    assert final.worker.rsplit(":", 1)[1] == str(second.pid)


def _worker_states(f) -> list[str]:
    """The states of the RQ workers of the queue: idle once one waits for a job, its signal handlers set."""
    with f["app"].app_context():
        return [worker.get_state() for worker in Worker.all(queue=get_queue().queue)]
