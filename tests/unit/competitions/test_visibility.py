"""The solution and private scores never reach a participant before the close, by any route."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Competition, Role, Submission
from app.models.types import utcnow
from app.services.competitions import visibility
from tests.helpers import (
    PASSWORD,
    add_submission,
    bearer,
    make_competition,
    make_token,
    make_user,
    predictions_csv,
    write_bundle,
)

SLUG = "test-comp"


@pytest.fixture
def scored(app, client, auth, tmp_path):
    """A competition with one scored submission by rita, who is logged in on the client."""
    # Enough rows that the private score has many digits, and cannot be confused with a curve point.
    folder, ids, _labels, x = write_bundle(tmp_path / "bundle", n=3000)
    with app.app_context():
        from app.services.competitions.bundles import import_bundle

        import_bundle(folder)
        token = make_token(make_user("rita"))
        make_user("olga", Role.ORGANISER)
    client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
    client.post(
        f"/api/v1/competitions/{SLUG}/submissions",
        headers=bearer(token),
        data={"file": (io.BytesIO(predictions_csv(ids, x)), "p.csv")},
    )
    app.extensions["job_queue"].join()
    auth.login("rita", PASSWORD)
    with app.app_context():
        submission = db.session.execute(db.select(Submission)).scalar_one()
        assert submission.status.value == "scored"
        competition = db.session.execute(db.select(Competition)).scalar_one()
        return {
            "token": token,
            "private": repr(submission.private_score),
            "private_shown": f"{submission.private_score:.6g}",
            "solution": (folder / "solution.csv").read_bytes(),
            "solution_key": competition.solution_file.storage_key,
            "id": submission.id,
        }


def test_solution_is_not_downloadable_by_a_participant(client, scored):
    token = scored["token"]
    for path in (
        f"/api/v1/competitions/{SLUG}/files/solution.csv",
        f"/competitions/{SLUG}/files/solution.csv",
    ):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 404
        assert scored["solution"] not in response.data
    listed = client.get(f"/api/v1/competitions/{SLUG}/files", headers=bearer(token)).get_data(as_text=True)
    assert "solution" not in listed


@pytest.mark.parametrize(
    "path",
    [
        f"/competitions/{SLUG}",
        f"/competitions/{SLUG}/data",
        f"/competitions/{SLUG}/rules",
        f"/competitions/{SLUG}/leaderboard",
        f"/competitions/{SLUG}/submissions",
        f"/competitions/{SLUG}/leaderboard.csv",
        f"/competitions/{SLUG}/submissions/status.json?ids=1",
        "/submissions/1",
        f"/api/v1/competitions/{SLUG}",
        f"/api/v1/competitions/{SLUG}/submissions",
        "/api/v1/submissions/1",
    ],
)
def test_no_page_or_api_route_shows_the_private_score_before_the_close(client, scored, path):
    response = client.get(path, headers=bearer(scored["token"]) if path.startswith("/api/") else {})
    assert response.status_code == 200, path
    text = response.get_data(as_text=True)
    assert scored["private"] not in text  # full precision: nothing of it leaks, rounded or not, in JSON
    assert scored["solution_key"] not in text
    if path == "/submissions/1":
        assert "revealed after the close" in text


@pytest.mark.parametrize(
    "path",
    [
        f"/competitions/{SLUG}/leaderboard?board=private",
        f"/competitions/{SLUG}/leaderboard.csv?board=private",
        f"/competitions/{SLUG}/scores.csv",
        f"/competitions/{SLUG}/all-submissions",
        f"/competitions/{SLUG}/settings",
    ],
)
def test_private_boards_and_organiser_pages_are_refused_to_participants(client, scored, path):
    assert client.get(path).status_code == 403


def test_organiser_sees_private_scores_and_exports(client, auth, scored):
    auth.logout()
    auth.login("olga", PASSWORD)
    assert scored["private_shown"] in client.get("/submissions/1").get_data(as_text=True)
    assert scored["private_shown"] in client.get(f"/competitions/{SLUG}/leaderboard?board=private").get_data(
        as_text=True
    )
    assert scored["private"] in client.get(f"/competitions/{SLUG}/scores.csv").get_data(as_text=True)
    exported = client.get(f"/competitions/{SLUG}/scores.csv").get_data(as_text=True)
    assert exported.startswith("submission_id,participant,status") and "rita" in exported


def test_only_the_author_downloads_the_submitted_file(app, client, auth, scored):
    own = client.get("/submissions/1/file")
    content = own.get_data()
    own.close()
    assert own.status_code == 200 and content.startswith(b"id,label\n")
    with app.app_context():
        make_user("ravi")
    auth.logout()
    auth.login("ravi", PASSWORD)
    assert client.get("/submissions/1").status_code == 404
    assert client.get("/submissions/1/file").status_code == 404


def test_status_poll_writes_the_scores_as_the_page_does_and_still_hides_the_private_one(client, scored):
    (status,) = client.get(f"/competitions/{SLUG}/submissions/status.json?ids={scored['id']}").get_json()["submissions"]
    shown = status["shown"]
    assert shown["public_score"] == f"{status['public_score']:.6g}"
    assert f'data-field="public_score">{shown["public_score"]}<' in client.get(
        f"/competitions/{SLUG}/submissions"
    ).get_data(as_text=True)
    assert shown["private_score"] == "" and scored["private_shown"] not in str(status)


def test_the_author_and_organisers_see_a_submission_and_no_one_else(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path)
        rita, ravi, olga = make_user("rita"), make_user("ravi"), make_user("olga", Role.ORGANISER)
        submission = add_submission(competition, rita, public=0.75, private=0.71)
        assert visibility.can_see_submission(submission, rita) and visibility.can_see_submission(submission, olga)
        assert not visibility.can_see_submission(submission, ravi)
        assert not visibility.can_see_submission(submission, None)


def test_private_scores_are_the_organisers_until_the_close_then_everyones(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path, closes_at=None)
        rita, olga = make_user("rita"), make_user("olga", Role.ORGANISER)
        submission = add_submission(competition, rita, public=0.75, private=0.71)
        before = visibility.submission_as_json(submission, rita)
        assert (before["public_score"], before["private_score"], before["n_private"]) == (0.75, None, None)
        assert before["solution_sha256"] is None  # the solution's hash would let a participant test guesses
        assert visibility.submission_as_json(submission, olga)["private_score"] == 0.71
        assert not visibility.can_see_private(competition, rita) and visibility.can_see_private(competition, olga)
        competition.closes_at = utcnow() - timedelta(minutes=1)
        after = visibility.submission_as_json(submission, rita)
        assert (after["private_score"], after["n_private"], after["solution_sha256"]) == (0.71, 50, "1" * 64)
        assert visibility.can_see_private(competition, None)
