"""The `playground` command and the Python client against a live server started by the test (embedded mode).

The same flow on PostgreSQL, Redis with a real worker and S3 is in test_client_s3.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from playground_client import ApiError, Client
from playground_client.cli import main

from app.extensions import db
from app.models import Competition, Role, Submission
from app.models.types import utcnow
from app.services.competitions.bundles import import_bundle
from tests import services
from tests.helpers import make_token, make_user, predictions_csv, write_bundle

SLUG = "test-comp"


class RangeRecorder:
    """WSGI middleware remembering the Range header of each download."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app, self.ranges = wsgi_app, []

    def __call__(self, environ, start_response):
        if "/files/" in environ.get("PATH_INFO", ""):
            self.ranges.append(environ.get("HTTP_RANGE"))
        return self.wsgi_app(environ, start_response)


@pytest.fixture
def platform(app, tmp_path) -> Iterator[dict]:
    """A live embedded server with a competition, a researcher (rita) and an organiser (olga)."""
    folder, ids, _labels, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_bundle(folder)
        rita = make_token(make_user("rita"))
        olga = make_token(make_user("olga", Role.ORGANISER))
    recorder = RangeRecorder(app.wsgi_app)
    app.wsgi_app = recorder
    url, stop = services.serve(app)
    yield {"app": app, "url": url, "rita": rita, "olga": olga, "folder": folder, "ids": ids, "x": x, "ranges": recorder}
    stop()


def cli(platform: dict, *args: str, token: str | None = None, config_home: Path | None = None):
    """Run `playground ARGS` in this process, logged in through the environment."""
    env = {"PLAYGROUND_URL": platform["url"], "PLAYGROUND_TOKEN": token or platform["rita"]}
    if config_home is not None:
        env = {"XDG_CONFIG_HOME": str(config_home), "PLAYGROUND_URL": None, "PLAYGROUND_TOKEN": None}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_login_saves_a_file_only_its_owner_reads_and_environment_overrides_it(platform, tmp_path):
    home = tmp_path / "config"
    result = cli(platform, "login", "--url", platform["url"], "--token", platform["rita"], config_home=home)
    assert result.exit_code == 0, result.output
    assert "as rita" in result.output
    saved = home / "dqm-playground" / "login.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"url": platform["url"], "token": platform["rita"]}
    assert cli(platform, "whoami", config_home=home).output.startswith("rita")
    # PLAYGROUND_TOKEN wins over the saved login.
    env = {"XDG_CONFIG_HOME": str(home), "PLAYGROUND_TOKEN": platform["olga"], "PLAYGROUND_URL": None}
    assert CliRunner().invoke(main, ["whoami"], env=env).output.startswith("olga")


def test_login_with_a_bad_token_prints_the_servers_message_and_saves_nothing(platform, tmp_path):
    home = tmp_path / "config"
    result = cli(platform, "login", "--url", platform["url"], "--token", "dqm_wrong", config_home=home)
    assert result.exit_code == 1
    assert "The API token is invalid or was revoked." in result.output
    assert "Traceback" not in result.output
    assert not (home / "dqm-playground" / "login.json").exists()


def test_installed_command_lists_competitions_and_fails_cleanly(platform):
    """The console script itself, as a researcher runs it."""
    executable = Path(sys.executable).parent / "playground"
    env = os.environ | {"PLAYGROUND_URL": platform["url"], "PLAYGROUND_TOKEN": platform["rita"]}
    listed = subprocess.run([executable, "competitions"], env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert SLUG in listed.stdout and "Test competition" in listed.stdout
    refused = subprocess.run(
        [executable, "leaderboard", SLUG, "--private"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Error: The private leaderboard is revealed when the competition closes."


def test_download_needs_joining_then_verifies_every_file(platform, tmp_path):
    target = tmp_path / "data"
    refused = cli(platform, "download", SLUG, "-d", str(target))
    assert refused.exit_code == 1 and "Join the competition first" in refused.output
    assert cli(platform, "join", SLUG, "--yes").exit_code == 0
    result = cli(platform, "download", SLUG, "-d", str(target))
    assert result.exit_code == 0, result.output
    for name in ("train.csv", "test.csv", "sample_submission.csv"):
        assert (target / name).read_bytes() == (platform["folder"] / name).read_bytes()
        assert f"{name}  sha256 ok" in result.output
    assert not list(target.glob("*.part"))


def test_interrupted_download_resumes_with_a_range(platform, tmp_path):
    client = Client(platform["url"], platform["rita"])
    client.join(SLUG)
    original = (platform["folder"] / "train.csv").read_bytes()
    (tmp_path / "train.csv.part").write_bytes(original[:1000])
    [path] = client.download(SLUG, tmp_path, ["train.csv"])
    assert path.read_bytes() == original
    assert platform["ranges"].ranges[-1] == "bytes=1000-"


def test_corrupt_partial_download_fails_the_sha256_check_and_is_removed(platform, tmp_path):
    client = Client(platform["url"], platform["rita"])
    client.join(SLUG)
    original = (platform["folder"] / "train.csv").read_bytes()
    (tmp_path / "train.csv.part").write_bytes(b"X" * 1000)
    with pytest.raises(ApiError, match="sha256") as refused:
        client.download(SLUG, tmp_path, ["train.csv"])
    assert refused.value.code == "checksum_mismatch"
    assert not (tmp_path / "train.csv").exists() and not (tmp_path / "train.csv.part").exists()
    # Downloading again starts from scratch and succeeds.
    assert client.download(SLUG, tmp_path, ["train.csv"])[0].read_bytes() == original


def test_submit_wait_prints_the_score_and_the_leaderboard_shows_it(platform, tmp_path):
    Client(platform["url"], platform["rita"]).join(SLUG)
    predictions = tmp_path / "predictions.csv"
    predictions.write_bytes(predictions_csv(platform["ids"], platform["x"]))
    result = cli(platform, "submit", SLUG, str(predictions), "-m", "first try", "--wait")
    assert result.exit_code == 0, result.output
    with platform["app"].app_context():
        submission = db.session.execute(db.select(Submission)).scalar_one()
        assert submission.description == "first try"
        assert submission.file_sha256 == hashlib.sha256(predictions.read_bytes()).hexdigest()
        public = submission.public_score
    assert f"submission {submission.id} scored: public score {public:.6g}" in result.output

    listed = cli(platform, "submissions", SLUG)
    assert listed.exit_code == 0 and f"{submission.id}" in listed.output and "scored" in listed.output
    board = cli(platform, "leaderboard", SLUG)
    assert board.exit_code == 0
    first_row = board.output.splitlines()[1].split()
    assert first_row[:3] == ["1", "rita", f"{public:.6g}"]


def test_submit_wait_exits_non_zero_with_the_scorers_message(platform, tmp_path):
    Client(platform["url"], platform["rita"]).join(SLUG)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(predictions_csv(platform["ids"][:-1], platform["x"][:-1]))
    result = cli(platform, "submit", SLUG, str(bad), "--wait")
    assert result.exit_code == 1
    assert "failed:" in result.output and platform["ids"][-1] in result.output
    assert "Traceback" not in result.output


def test_python_client_submits_waits_and_reads_the_boards(platform, tmp_path):
    client = Client(platform["url"], platform["rita"])
    client.join(SLUG)
    predictions = tmp_path / "p.csv"
    predictions.write_bytes(predictions_csv(platform["ids"], platform["x"]))
    result = client.submit(SLUG, predictions, description="notebook", wait=True)
    assert result.status == "scored" and result.public_score is not None and result.private_score is None
    assert client.submission(result.id) == result
    assert [s.id for s in client.submissions(SLUG)] == [result.id]
    assert client.competition(SLUG).quota.remaining_today == 4
    assert [row.participant for row in client.leaderboard(SLUG)] == ["rita"]
    with pytest.raises(ApiError) as hidden:
        client.leaderboard(SLUG, private=True)
    assert hidden.value.status == 403

    organiser = Client(platform["url"], platform["olga"])
    assert organiser.submission(result.id).private_score is not None
    assert [row.participant for row in organiser.leaderboard(SLUG, private=True)] == ["rita"]
    client.select(result.id)
    with platform["app"].app_context():
        db.session.execute(db.select(Competition)).scalar_one().closes_at = utcnow()
        db.session.commit()
    assert [row.participant for row in client.leaderboard(SLUG, private=True)] == ["rita"]


def test_submission_refused_by_quota_is_not_waited_for(platform, tmp_path):
    """A used-up daily quota answers 429 with a Retry-After of hours: the client says so at once."""
    client = Client(platform["url"], platform["rita"])
    client.join(SLUG)
    with platform["app"].app_context():
        db.session.execute(db.select(Competition)).scalar_one().daily_limit = 0
        db.session.commit()
    waited = []
    client.sleep = waited.append
    predictions = tmp_path / "p.csv"
    predictions.write_bytes(predictions_csv(platform["ids"], np.zeros(len(platform["ids"]))))
    with pytest.raises(ApiError, match="submissions of today") as refused:
        client.submit(SLUG, predictions)
    assert refused.value.status == 429 and waited == []


def test_organiser_exports_every_submission_file_as_one_verified_zip(platform, tmp_path):
    import zipfile

    rita = Client(platform["url"], platform["rita"])
    rita.join(SLUG)
    predictions = tmp_path / "p.csv"
    predictions.write_bytes(predictions_csv(platform["ids"], platform["x"]))
    submitted = rita.submit(SLUG, predictions, wait=True)

    refused = cli(platform, "export", SLUG, "-d", str(tmp_path / "out"))
    assert refused.exit_code == 1 and "organiser" in refused.output
    result = cli(platform, "export", SLUG, "-d", str(tmp_path / "out"), token=platform["olga"])
    assert result.exit_code == 0, result.output
    [archive] = (tmp_path / "out").glob("*.zip")
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.read(f"submissions/{submitted.id}-rita-p.csv") == predictions.read_bytes()
        scores = zipped.read("scores.csv").decode().splitlines()
    assert scores[0].startswith("submission_id,participant,status") and scores[1].startswith(f"{submitted.id},rita,")
