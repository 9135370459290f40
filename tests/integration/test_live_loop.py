"""Live predictions over HTTP on PostgreSQL, Redis with a real RQ worker, and S3: a task's labels published, a
live competition made with the command, predictions posted for pending.csv and activated, the pending runs
certified and approved by people, and the live leaderboard updated by the worker."""

from __future__ import annotations

import io
import uuid

import numpy as np
import pandas as pd
import pytest
import requests
from rq import SimpleWorker
from sklearn.metrics import roc_auc_score

from app.extensions import db
from app.models import LabellingTask, Lumisection, Run, SuggestionSource, TaskRun
from app.services.queue import get_queue
from app.services.runs.importer import import_oms
from app.services.suggestions import store
from tests import services
from tests.conftest import make_app
from tests.helpers import bearer, make_token
from tests.unit.suggestions.live_data import LUMISECTIONS, PENDING_RUNS, bad_range, make_live

pytestmark = [pytest.mark.redis, pytest.mark.s3, pytest.mark.databases("postgresql")]
SLUG = "live-tracker"
LATE_RUN = 109  # a run of the task whose lumisections are imported after the competition opened
CERTIFIED = {
    "reco": "express",
    "pixel": "good",
    "strip": "good",
    "tracking": "good",
    "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
}


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


def download(client, token: str, name: str) -> pd.DataFrame:
    """A file of the competition as a researcher gets it: a redirect to the store."""
    redirect = client.get(f"/api/v1/competitions/{SLUG}/files/{name}", headers=bearer(token))
    assert redirect.status_code == 302
    return pd.read_csv(io.BytesIO(requests.get(redirect.headers["Location"], timeout=10).content), dtype={"id": str})


def pending_runs(frame: pd.DataFrame) -> list[int]:
    return sorted({int(i.split("_")[0]) for i in frame["id"]})


def test_live_predictions_are_ranked_on_labels_approved_after_they_were_posted(stack):
    client = stack.test_client()
    with stack.app_context():
        setting = make_live(competition=False)
        db.session.add(Run(run_number=LATE_RUN))
        db.session.flush()
        db.session.add(TaskRun(task_id=setting.task.id, run_number=LATE_RUN))
        db.session.commit()
        task_id, version_id = setting.task.id, setting.version_id
        good, noisy = (make_token(user) for user in setting.researchers)
        shifter, leader = make_token(setting.shifter), make_token(setting.leader)

    created = stack.test_cli_runner().invoke(
        args=["competitions", "create", "--dataset-version", str(version_id), "--slug", SLUG, "--live"]
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip().splitlines()[-1] == SLUG

    for token in (good, noisy):
        joined = client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
        assert joined.status_code == 200
    frame = download(client, good, "pending.csv")
    assert pending_runs(frame) == list(PENDING_RUNS)

    # One model knows where the bad ranges are; the other guesses.
    numbers = frame["id"].str.split("_", expand=True).astype(int)
    inside = [bad_range(run)[0] <= n <= bad_range(run)[1] for run, n in zip(numbers[0], numbers[1], strict=True)]
    knowing = np.where(inside, 0.9, 0.1) + np.random.default_rng(0).normal(scale=0.05, size=len(frame))
    guessing = np.random.default_rng(1).random(len(frame))
    posted = {}
    for token, scores in ((good, knowing.clip(0, 1)), (noisy, guessing)):
        body = pd.DataFrame({"id": frame["id"], "label": scores}).to_csv(index=False).encode()
        accepted = client.post(
            f"/api/v1/competitions/{SLUG}/live", headers=bearer(token), data={"file": (io.BytesIO(body), "live.csv")}
        )
        assert accepted.status_code == 202
        posted[token] = (accepted.get_json()["source_id"], scores)
    again = client.post(
        f"/api/v1/competitions/{SLUG}/live", headers=bearer(good), data={"file": (io.BytesIO(body), "live.csv")}
    )
    assert again.status_code == 429 and "Retry-After" in again.headers

    with stack.app_context():
        source = db.session.get(SuggestionSource, posted[good][0])
        assert not source.active  # live sources wait for a shift leader
        store.set_active(source, True)
        db.session.commit()

    board = client.get(f"/api/v1/competitions/{SLUG}/live-leaderboard").get_json()["rows"]
    assert [(row["rank"], row["score"]) for row in board] == [(None, None), (None, None)]

    # Lumisections of the late run arrive; the worker adds them to pending.csv.
    with stack.app_context():
        import_oms({"run_number": [LATE_RUN] * 5, "lumisection_number": list(range(1, 6))})
    run_worker(stack)
    assert pending_runs(download(client, good, "pending.csv")) == [*PENDING_RUNS, LATE_RUN]

    # Shifters certify the pending runs, with their bad ranges; a shift leader approves them.
    for run in PENDING_RUNS[1:]:
        first, last = bad_range(run)
        ranges = [{"first": first, "last": last, "components": ["tracking"]}]
        body = CERTIFIED | {"run_number": run, "bad_lumisections": ranges, "comment": "tracking lost"}
        certified = client.post(f"/api/v1/tasks/{task_id}/certifications", headers=bearer(shifter), json=body)
        assert certified.status_code == 201, certified.get_json()
        reviewed = client.post(
            f"/api/v1/certifications/{certified.get_json()['id']}/review",
            headers=bearer(leader),
            json={"decision": "approve"},
        )
        assert reviewed.status_code == 200, reviewed.get_json()
    run_worker(stack)

    board = client.get(f"/api/v1/competitions/{SLUG}/live-leaderboard").get_json()["rows"]
    assert [row["source_id"] for row in board] == [posted[good][0], posted[noisy][0]]
    assert [row["rank"] for row in board] == [1, 2]
    assert all((row["runs"], row["lumisections"]) == (2, 2 * LUMISECTIONS) for row in board)
    # The score is the competition's metric on the lumisections of the newly approved runs.
    approved = numbers[0].isin(PENDING_RUNS[1:]).to_numpy()
    labels = np.asarray(inside)[approved].astype(int)
    with stack.app_context():
        weights = [
            max(lumi, 0.0)
            for (lumi,) in db.session.execute(
                db.select(Lumisection.recorded_lumi)
                .where(Lumisection.run_number.in_(PENDING_RUNS[1:]))
                .order_by(Lumisection.run_number, Lumisection.number)
            )
        ]
    expected = roc_auc_score(labels, posted[good][1][approved], sample_weight=weights)
    assert board[0]["score"] == pytest.approx(expected, abs=1e-12)
    assert pending_runs(download(client, good, "pending.csv")) == [PENDING_RUNS[0], LATE_RUN]

    with stack.app_context():
        task = db.session.get(LabellingTask, task_id)
        assert task is not None and db.session.get(SuggestionSource, posted[good][0]).live.score == board[0]["score"]
