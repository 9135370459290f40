"""The researcher's whole flow with the `playground` command against a deployed-shape server.

PostgreSQL, Redis with a real `flask worker` process, and either S3 (moto over
HTTP: the >100 MB file goes straight to the store through presigned parts) or
the filesystem (the same command posts it as a multipart form).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playground_client.cli import main

from app.extensions import db
from app.models import Role, Submission, SubmissionStatus
from app.services.competitions.bundles import import_bundle
from app.services.queue import get_queue
from tests import services
from tests.conftest import make_app
from tests.helpers import make_token, make_user, write_bundle

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]
REPO = Path(__file__).resolve().parents[2]
SLUG = "test-comp"
ROWS = 1_500_000  # the test set is a third: 500,000 rows
PADDING = 200  # digits appended to each prediction, to make the file large without a large solution


class BodySizes:
    """WSGI middleware remembering the largest request body the web process was sent."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app, self.largest = wsgi_app, 0

    def __call__(self, environ, start_response):
        self.largest = max(self.largest, int(environ.get("CONTENT_LENGTH") or 0))
        return self.wsgi_app(environ, start_response)


@pytest.fixture(params=["s3", "filesystem"])
def deployed(request, database_url, tmp_path) -> Iterator[dict]:
    """A live server on PostgreSQL and Redis, a worker process, and S3 or filesystem storage."""
    settings = {"REDIS_URL": services.redis_url(), "RQ_QUEUE": f"test-{uuid.uuid4().hex}"}
    if request.param == "s3":
        request.applymarker(pytest.mark.s3)
        bucket, endpoint = request.getfixturevalue("s3_bucket")
        settings |= {"STORAGE_URL": f"s3://{bucket}/deployed", "S3_ENDPOINT_URL": endpoint}
    else:
        settings["STORAGE_URL"] = f"file://{tmp_path}/storage"
    app = make_app(database_url, tmp_path, **settings)
    folder, ids, _, x = write_bundle(tmp_path / "bundle", n=ROWS)
    with app.app_context():
        import_bundle(folder)
        rita = make_token(make_user("rita"))
        olga = make_token(make_user("olga", Role.ORGANISER))
    sizes = BodySizes(app.wsgi_app)
    app.wsgi_app = sizes
    url, stop = services.serve(app)
    env = os.environ | {"DATABASE_URL": database_url, "SECRET_KEY": "t"} | settings
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield {
        "app": app,
        "url": url,
        "rita": rita,
        "olga": olga,
        "folder": folder,
        "ids": ids,
        "x": x,
        "sizes": sizes,
        "storage": request.param,
    }
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)
    stop()
    with app.app_context():
        get_queue().queue.delete(delete_jobs=True)
        db.engine.dispose()


def write_large_predictions(path: Path, ids, scores) -> None:
    """A valid prediction file of over 100 MB: every score is written with PADDING more zero digits."""
    zeros = "0" * PADDING
    with path.open("w") as handle:
        handle.write("id,label\n")
        handle.writelines(f"{i},{s:.17f}{zeros}\n" for i, s in zip(ids, scores, strict=True))


def test_login_download_submit_large_file_wait_and_leaderboard(deployed, tmp_path):
    home = tmp_path / "config"
    env = {"XDG_CONFIG_HOME": str(home), "PLAYGROUND_URL": None, "PLAYGROUND_TOKEN": None}

    def playground(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    assert playground("login", "--url", deployed["url"], "--token", deployed["rita"]).exit_code == 0
    assert SLUG in playground("competitions").output
    assert playground("join", SLUG, "--yes").exit_code == 0
    downloaded = playground("download", SLUG, "-d", str(tmp_path / "data"))
    assert downloaded.exit_code == 0, downloaded.output
    for name in ("train.csv", "test.csv", "sample_submission.csv"):
        assert (tmp_path / "data" / name).read_bytes() == (deployed["folder"] / name).read_bytes()

    predictions = tmp_path / "predictions.csv"
    write_large_predictions(predictions, deployed["ids"], deployed["x"])
    size = predictions.stat().st_size
    assert size > 100 * 1024 * 1024
    submitted = playground("submit", SLUG, str(predictions), "-m", "large", "--wait")
    assert submitted.exit_code == 0, submitted.output
    assert "scored: public score" in submitted.output

    with deployed["app"].app_context():
        submission = db.session.execute(db.select(Submission)).scalar_one()
        assert submission.status is SubmissionStatus.SCORED and submission.file_size == size
        digest = hashlib.sha256()
        with predictions.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        assert submission.file_sha256 == digest.hexdigest()
    if deployed["storage"] == "s3":
        assert deployed["sizes"].largest < 1024 * 1024, "the file went through the web process"
    else:
        assert deployed["sizes"].largest > size

    board = playground("leaderboard", SLUG)
    assert board.output.splitlines()[1].split()[:2] == ["1", "rita"]
    listed = playground("submissions", SLUG)
    assert "scored" in listed.output and "large" in listed.output

    # The organiser's export, built by the worker, downloaded and checked against its sha256.
    env["PLAYGROUND_TOKEN"] = deployed["olga"]
    exported = playground("export", SLUG, "-d", str(tmp_path / "export"))
    assert exported.exit_code == 0, exported.output
    [archive] = (tmp_path / "export").glob("*.zip")
    with zipfile.ZipFile(archive) as zipped:
        member = zipped.getinfo(f"submissions/{submission.id}-rita-predictions.csv")
        assert member.file_size == size and member.CRC == zlib.crc32(predictions.read_bytes())
        assert zipped.read("scores.csv").decode().count("\n") == 2
