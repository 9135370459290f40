"""Submissions built to cost the platform dearly fail at once, with a short message, and block nothing."""

from __future__ import annotations

import io
import time
import zlib

import pytest

import scorers
from app.extensions import db
from app.models import Submission, SubmissionStatus
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from tests.helpers import make_user, write_bundle

MB = 1024 * 1024


@pytest.fixture
def competition(app, tmp_path):
    """A competition with a joined researcher, rita; yields (competition, rita) inside an app context."""
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        competition = import_bundle(folder)
        user = make_user("rita")
        submissions.join(competition, user)
        db.session.commit()
        yield competition, user


def _scored(app, content: bytes, competition) -> Submission:
    competition, user = competition
    submission = submissions.submit(competition, user, io.BytesIO(content), file_name="p.csv")
    app.extensions["job_queue"].join()
    db.session.expire_all()
    return db.session.get(Submission, submission.id)


def test_a_hundred_thousand_columns_fail_at_once_with_a_short_message(app, competition):
    """889 KB of header once took minutes of the only job thread and stored a 2 MB error."""
    names = [f"c{i}" for i in range(100_000)]
    wide = (",".join(names) + "\n" + ",".join("1" for _ in names) + "\n").encode()
    started = time.monotonic()
    submission = _scored(app, wide, competition)
    assert time.monotonic() - started < 30
    assert submission.status is SubmissionStatus.FAILED and submission.counted is False
    assert "columns" in submission.error and len(submission.error) < 500


def test_a_gzip_bomb_fails_with_a_clear_message(app, competition):
    """A small gzip file that expands past five uploads' worth is refused as it is decompressed."""
    app.config["MAX_DECOMPRESSED_BYTES"] = 5 * MB
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(compressor.compress(bytes(MB)) for _ in range(50)) + compressor.flush()
    submission = _scored(app, bomb, competition)
    assert submission.status is SubmissionStatus.FAILED and submission.counted is False
    assert submission.error == "The submission is larger than 5 MB once decompressed, the largest accepted."


def test_a_failure_message_is_stored_cut_to_ten_thousand_characters(app, competition, monkeypatch):
    def refuse(*args, **kwargs):
        raise scorers.ValidationError("The submission is wrong: " + "x" * 50_000)

    monkeypatch.setattr(scorers, "read_submission", refuse)
    submission = _scored(app, b"id,label\nls00001,0.5\n", competition)
    assert submission.status is SubmissionStatus.FAILED
    assert len(submission.error) == 10_000
    assert submission.error.startswith("The submission is wrong: xxx") and submission.error.endswith(
        "(message cut here)"
    )
