"""The organisers' scores CSV: one row per submission with its provenance, failures with their message."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from app.models import Role, SubmissionStatus
from app.models.types import utcnow
from app.services.competitions.scores_export import SCORE_COLUMNS, scores_csv
from tests.helpers import PASSWORD, add_submission, make_competition, make_user


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_submission_is_a_row_with_both_scores_and_its_provenance(app, tmp_path):
    at = utcnow() - timedelta(hours=2)
    with app.app_context():
        competition = make_competition(tmp_path)
        rita = make_user("rita")
        scored = add_submission(competition, rita, public=0.75, private=0.71, at=at)
        scored.scorer_name, scored.scorer_version = "roc_auc", "1"
        failed = add_submission(competition, rita, error="column 'label' is missing", at=at + timedelta(minutes=5))
        text = scores_csv([scored, failed])
    assert text.splitlines()[0] == ",".join(SCORE_COLUMNS)
    first, second = rows_of(text)
    assert (first["participant"], first["status"], first["public_score"], first["private_score"]) == (
        "rita",
        "scored",
        "0.75",
        "0.71",
    )
    assert (first["scorer"], first["scorer_version"], first["solution_sha256"]) == ("roc_auc", "1", "1" * 64)
    assert first["submitted_at"] == at.isoformat() and first["error"] == ""
    assert (second["status"], second["public_score"], second["error"]) == ("failed", "", "column 'label' is missing")


def test_a_submission_still_waiting_has_no_finish_time_and_baselines_say_so(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path)
        queued = add_submission(competition, make_user("rita"), status=SubmissionStatus.QUEUED)
        baseline = add_submission(competition, make_user("olga", Role.ORGANISER), public=0.5, baseline=True)
        waiting, reference = rows_of(scores_csv([queued, baseline]))
    assert (waiting["status"], waiting["finished_at"], waiting["scorer"]) == ("queued", "", "")
    assert (reference["baseline"], waiting["baseline"]) == ("True", "False")


def test_the_organisers_page_serves_the_same_rows(app, client, auth, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path)
        add_submission(competition, make_user("rita"), public=0.75, private=0.71)
        make_user("olga", Role.ORGANISER)
        slug = competition.slug
    auth.login("olga", PASSWORD)
    response = client.get(f"/competitions/{slug}/scores.csv")
    assert response.status_code == 200
    [row] = rows_of(response.get_data(as_text=True))
    assert (row["participant"], row["private_score"]) == ("rita", "0.71")
