"""Throughput: 500 submissions of 10,000 rows uploaded through the API and scored by 2 `flask worker` processes.

Prints submissions scored per second end to end (first upload to last score; target
at least 20 per second), the upload rate alone, and confirms that none was lost.
Needs PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL names the server) and
Redis (BENCH_REDIS_URL or TEST_REDIS_URL, default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _support import make_app, postgres_database

SUBMISSIONS = 500
ROWS = 10_000
WORKERS = 2
REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    storage = Path(tempfile.mkdtemp()) / "storage"
    with postgres_database() as url:
        app = make_app(url, storage, REDIS_URL=redis_url, RQ_QUEUE=queue)
        from app.extensions import db
        from app.models import Submission, SubmissionStatus
        from app.services.competitions.bundles import import_bundle
        from app.services.queue import get_queue
        from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle

        with app.app_context():
            folder, ids, _, x = write_bundle(
                Path(tempfile.mkdtemp()) / "bundle", n=3 * ROWS, spec={"daily_limit": SUBMISSIONS}
            )
            slug = import_bundle(folder).slug
            token = make_token(make_user("bench"))
        client = app.test_client()
        client.post(f"/api/v1/competitions/{slug}/join", headers=bearer(token), json={"accept_rules": True})
        content = predictions_csv(ids, x)  # the bundle's test set: a third of 3 x ROWS rows

        env = os.environ | {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "RQ_QUEUE": queue,
            "STORAGE_URL": f"file://{storage}",
            "SECRET_KEY": "bench",
            "REAPER_INTERVAL": "0",
        }
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(WORKERS)
        ]
        time.sleep(2)  # let the workers connect before the clock starts
        start = time.perf_counter()
        for _ in range(SUBMISSIONS):
            response = client.post(
                f"/api/v1/competitions/{slug}/submissions",
                headers=bearer(token),
                data={"file": (io.BytesIO(content), "p.csv")},
            )
            assert response.status_code == 202, response.get_data(as_text=True)
        uploaded = time.perf_counter() - start
        with app.app_context():
            while True:
                counts = dict(
                    db.session.execute(db.select(Submission.status, db.func.count()).group_by(Submission.status)).all()
                )
                db.session.commit()
                if counts.get(SubmissionStatus.QUEUED, 0) + counts.get(SubmissionStatus.SCORING, 0) == 0:
                    break
                if time.perf_counter() - start > 600:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - start
            get_queue().queue.delete(delete_jobs=True)
            db.engine.dispose()
        for worker in workers:
            worker.terminate()
            worker.wait(30)
    scored = counts.get(SubmissionStatus.SCORED, 0)
    print(f"{SUBMISSIONS} submissions of {len(ids):,} rows, {WORKERS} workers on Redis, PostgreSQL, file storage")
    print(f"  uploads through the API: {SUBMISSIONS / uploaded:6.1f} per second")
    print(f"  scored end to end:       {scored / elapsed:6.1f} per second (target >= 20)")
    print(
        f"  scored {scored}, failed {counts.get(SubmissionStatus.FAILED, 0)}, lost {SUBMISSIONS - sum(counts.values())}"
    )


if __name__ == "__main__":
    main()
