"""`GET /metrics`: a submission's life and the requests, counted as operators see them; the token; and the
counts of several gunicorn processes added up."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app.services.competitions.bundles import import_bundle
from tests import services
from tests.conftest import make_app
from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle
from tests.integration.conftest import run_worker

pytestmark = [pytest.mark.redis, pytest.mark.s3, pytest.mark.databases("postgresql")]
REPO = Path(__file__).resolve().parents[2]
SLUG = "test-comp"


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of the exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _scrape(client, **headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return _samples(response.get_data(as_text=True))


def test_metrics_follow_a_submission_from_queued_to_scored_and_count_the_request(stack, tmp_path):
    client = stack.test_client()
    queue = stack.config["RQ_QUEUE"]
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with stack.app_context():
        import_bundle(folder)
        token = make_token(make_user("rita"))
    client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
    before = _scrape(client)
    assert _value(before, "playground_submissions", status="queued") == 0
    assert _value(before, "playground_dependency_up", dependency="database") == 1
    assert _value(before, "playground_dependency_up", dependency="redis") == 1
    submit = ("playground_http_request_duration_seconds_count", "api.create_submission", "POST", "202")
    counted_before = _value(before, submit[0], endpoint=submit[1], method=submit[2], status=submit[3])

    response = client.post(
        f"/api/v1/competitions/{SLUG}/submissions",
        headers=bearer(token),
        data={"file": (io.BytesIO(predictions_csv(ids, x)), "p.csv")},
    )
    assert response.status_code == 202
    assert len(response.headers["X-Request-ID"]) >= 8
    queued = _scrape(client)
    assert _value(queued, "playground_submissions", status="queued") == 1
    assert _value(queued, "playground_queue_depth", queue=queue) == 1
    assert _value(queued, submit[0], endpoint=submit[1], method=submit[2], status=submit[3]) == counted_before + 1

    run_worker(stack)
    scored = _scrape(client)
    assert _value(scored, "playground_submissions", status="queued") == 0
    assert _value(scored, "playground_submissions", status="scored") == 1
    assert _value(scored, "playground_queue_depth", queue=queue) == 0
    assert _value(scored, "playground_scoring_duration_seconds_count", outcome="scored") == 1
    assert _value(scored, "playground_scoring_duration_seconds_bucket", outcome="scored", le="+Inf") == 1
    assert _value(scored, "playground_scoring_duration_seconds_sum", outcome="scored") > 0
    assert _value(scored, "playground_jobs_failed_total", job="workers.scoring.score_submission") == 0


def test_metrics_answer_only_the_bearer_of_the_token_when_one_is_set(database_url, tmp_path):
    app = make_app(database_url, tmp_path, REDIS_URL=services.redis_url(), METRICS_TOKEN="watch-the-queue")
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "watch-the-queue"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "playground_" not in refused.get_data(as_text=True)
    assert "playground_submissions" in str(_scrape(client, Authorization="Bearer watch-the-queue"))


def _healthz_count(base: str) -> float:
    response = requests.get(f"{base}/metrics", timeout=30)
    assert response.status_code == 200
    return _value(
        _samples(response.text),
        "playground_http_request_duration_seconds_count",
        endpoint="main.healthz",
        method="GET",
        status="200",
    )


def _processes_with_counts(folder: Path) -> set[str]:
    """The pids of the processes that wrote request counts into the multiprocess directory."""
    return {path.stem.rsplit("_", 1)[1] for path in folder.glob("histogram_*.db")}


def test_gunicorn_processes_add_up_their_counts_even_after_one_exits(database_url, tmp_path):
    """Two gunicorn processes each count the requests they answer; /metrics of either reports the total,
    which stays when a process is replaced."""
    port = services.free_port()
    folder = tmp_path / "prometheus"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "STORAGE_URL": f"file://{tmp_path}/storage",
        "REAPER_INTERVAL": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert services.wait_for_port(port, 60), "gunicorn did not start"
        sent = 0
        deadline = time.monotonic() + 120
        # Concurrent requests on fresh connections, until both processes have answered some.
        with ThreadPoolExecutor(8) as pool:
            while len(_processes_with_counts(folder)) < 2 or sent < 40:
                assert time.monotonic() < deadline, "one process answered every request"
                statuses = list(pool.map(lambda _: requests.get(f"{base}/healthz", timeout=30).status_code, range(8)))
                assert statuses == [200] * 8
                sent += 8
        assert len(_processes_with_counts(folder)) == 2
        assert {_healthz_count(base) for _ in range(6)} == {sent}  # whichever process answers the scrape

        # A process goes (as a rolling restart or a crash would take it): gunicorn starts another, and what
        # the old one counted still counts.
        gone = int(sorted(_processes_with_counts(folder))[0])
        os.kill(gone, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while len(_worker_pids(server.pid)) < 2 or gone in _worker_pids(server.pid):
            assert time.monotonic() < deadline, "gunicorn did not replace the process"
            time.sleep(0.1)
        for _ in range(4):
            assert requests.get(f"{base}/healthz", timeout=30).status_code == 200
        assert {_healthz_count(base) for _ in range(6)} == {sent + 4}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)


def _worker_pids(master: int) -> set[int]:
    """The live children of the gunicorn master, from /proc."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            children.add(int(stat.parent.name))
    return children
