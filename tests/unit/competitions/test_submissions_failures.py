"""Every class of bad submission ends `failed` with the scorer's message, and costs no quota."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

from app.extensions import db
from app.models import Competition, Submission, SubmissionStatus
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.errors import Refused
from tests.helpers import make_user, write_bundle


def _frame(ids, values, columns=("id", "label")) -> bytes:
    return pd.DataFrame({columns[0]: ids, columns[1]: values}).to_csv(index=False).encode()


CASES = {
    "empty file": (lambda ids: b"", "The submission is empty."),
    "not UTF-8": (lambda ids: "id,label\nlsé,0.5\n".encode("latin-1"), "not UTF-8"),
    "wrong columns": (lambda ids: _frame(ids, 0.5, ("id", "score")), "missing 'label'; unexpected 'score'"),
    "duplicated ids": (lambda ids: _frame([ids[0], *ids], 0.5), "1 id is duplicated: {0}"),
    "missing ids": (lambda ids: _frame(ids[1:], 0.5), "1 id is missing: {0}"),
    "unknown ids": (lambda ids: _frame([*ids, "nope"], 0.5), "1 id is not in the test set: nope"),
    "not a number": (lambda ids: _frame(ids, ["x", *[0.5] * (len(ids) - 1)]), "1 id is not a number: {0}"),
    "NaN": (
        lambda ids: _frame(ids, [np.nan, *[0.5] * (len(ids) - 1)]).replace(b",\n", b",nan\n", 1),
        "1 id is NaN or infinite: {0}",
    ),
    "outside [0, 1]": (lambda ids: _frame(ids, [1.5, *[0.5] * (len(ids) - 1)]), "needs probabilities between 0 and 1"),
    "corrupt gzip": (lambda ids: gzip.compress(_frame(ids, 0.5))[:40], "cannot be decompressed"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_submission_fails_with_the_message_and_is_not_counted(app, tmp_path, case):
    folder, ids, *_ = write_bundle(tmp_path / "bundle", spec={"metric": "log_loss"})
    make_content, expected = CASES[case]
    with app.app_context():
        competition = import_bundle(folder)
        user = make_user("rita")
        participation = submissions.join(competition, user)
        db.session.commit()
        submission = submissions.submit(competition, user, io.BytesIO(make_content(ids) or b" "), file_name="p.csv")
        app.extensions["job_queue"].join()
        db.session.expire_all()
        submission = db.session.get(Submission, submission.id)
        assert submission.status is SubmissionStatus.FAILED
        assert expected.format(ids[0]) in submission.error
        assert submission.counted is False
        competition = db.session.get(Competition, competition.id)
        assert submissions.quota_for(competition, participation).remaining_today == competition.daily_limit


def test_an_empty_upload_is_refused_before_it_is_queued(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        competition = import_bundle(folder)
        user = make_user("rita")
        submissions.join(competition, user)
        db.session.commit()
        with pytest.raises(Refused, match=r"The file is empty\."):
            submissions.submit(competition, user, io.BytesIO(b""), file_name="p.csv")
        assert db.session.execute(db.select(Submission)).first() is None
