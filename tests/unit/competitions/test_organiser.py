"""Organisers: bundle upload on the web, settings, every submission, baselines, score export, rescoring."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Competition, Rescore, Role, Submission
from tests.helpers import PASSWORD, bearer, make_token, make_user, predictions_csv, write_bundle

SLUG = "test-comp"


@pytest.fixture
def organiser(app, client, auth):
    with app.app_context():
        make_user("olga", Role.ORGANISER)
    auth.login("olga", PASSWORD)
    return auth


def _zip(tmp_path, **spec) -> bytes:
    write_bundle(tmp_path / "b", spec=spec)
    return Path(shutil.make_archive(str(tmp_path / "bundle"), "zip", root_dir=tmp_path / "b")).read_bytes()


def upload(client, auth, content: bytes):
    data = {"bundle": (io.BytesIO(content), "bundle.zip"), "csrf_token": auth.csrf_token("/competitions/new")}
    return client.post("/competitions/new", data=data, content_type="multipart/form-data")


def test_bundle_upload_creates_the_competition(app, client, organiser, tmp_path):
    response = upload(client, organiser, _zip(tmp_path))
    assert response.status_code == 302 and response.headers["Location"] == f"/competitions/{SLUG}"
    page = client.get(f"/competitions/{SLUG}").get_data(as_text=True)
    assert "Find the <strong>bad</strong> lumisections." in page


def test_refused_upload_lists_every_problem_and_creates_nothing(app, client, organiser, tmp_path):
    response = upload(client, organiser, _zip(tmp_path, metric="nope", closes_at="soon"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing was created" in page and "nope" in page and "closes_at &#39;soon&#39; is not a date" in page
    with app.app_context():
        assert db.session.execute(db.select(Competition)).first() is None


def test_researchers_cannot_create_competitions(app, client, auth):
    with app.app_context():
        make_user("rita")
    auth.login("rita", PASSWORD)
    assert client.get("/competitions/new").status_code == 403


def test_overview_markdown_is_sanitised(app, client, organiser, tmp_path):
    folder, *_ = write_bundle(tmp_path / "b")
    (folder / "overview.md").write_text('Hi <script>alert(1)</script> <a href="javascript:alert(2)">x</a>')
    archive = shutil.make_archive(str(tmp_path / "z"), "zip", root_dir=folder)
    upload(client, organiser, Path(archive).read_bytes())
    page = client.get(f"/competitions/{SLUG}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "javascript:alert" not in page


def test_settings_change_limits_and_dates(app, client, organiser, tmp_path):
    upload(client, organiser, _zip(tmp_path))
    data = {
        "title": "Renamed",
        "overview": "# New",
        "opens_at": "",
        "closes_at": "2031-01-01T12:00",
        "daily_limit": "9",
        "total_limit": "",
        "final_selections": "3",
        "csrf_token": organiser.csrf_token(f"/competitions/{SLUG}/settings"),
    }
    assert client.post(f"/competitions/{SLUG}/settings", data=data).status_code == 302
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        assert (competition.title, competition.daily_limit, competition.final_selections) == ("Renamed", 9, 3)
        assert competition.closes_at.isoformat() == "2031-01-01T12:00:00+00:00"
    bad = dict(data, opens_at="2031-02-01T00:00", csrf_token=organiser.csrf_token(f"/competitions/{SLUG}/settings"))
    response = client.post(f"/competitions/{SLUG}/settings", data=bad)
    assert response.status_code == 400 and "The close must come after the opening." in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["daily_limit", "total_limit"])
def test_settings_refuse_a_limit_no_database_column_holds(app, client, organiser, tmp_path, field):
    upload(client, organiser, _zip(tmp_path))
    data = {
        "title": "Renamed",
        "daily_limit": "9",
        "final_selections": "3",
        field: str(2**70),
        "csrf_token": organiser.csrf_token(f"/competitions/{SLUG}/settings"),
    }
    response = client.post(f"/competitions/{SLUG}/settings", data=data)
    assert response.status_code == 400 and "Number must be between 1 and 2147483647" in response.get_data(as_text=True)
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        assert (competition.title, competition.daily_limit, competition.total_limit) == ("Test competition", 5, None)


def _scored_submission(app, client, tmp_path) -> int:
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        token = make_token(make_user("rita"))
        ids = [f"ls{i:05d}" for i in range(200, 300)]
        assert competition.slug == SLUG
    client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
    response = client.post(
        f"/api/v1/competitions/{SLUG}/submissions",
        headers=bearer(token),
        data={"file": (io.BytesIO(predictions_csv(ids, range(100))), "p.csv")},
    )
    app.extensions["job_queue"].join()
    return response.get_json()["id"]


def test_all_submissions_baseline_and_export(app, client, organiser, tmp_path):
    upload(client, organiser, _zip(tmp_path))
    submission_id = _scored_submission(app, client, tmp_path)
    page = client.get(f"/competitions/{SLUG}/all-submissions").get_data(as_text=True)
    assert "rita" in page and "Mark as baseline" in page
    token = organiser.csrf_token(f"/competitions/{SLUG}/all-submissions")
    client.post(f"/submissions/{submission_id}/baseline", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Submission, submission_id).is_baseline
    board = client.get(f"/api/v1/competitions/{SLUG}/leaderboard").get_json()["rows"]
    assert board[0]["baseline"] is True and board[0]["rank"] is None
    exported = client.get(f"/competitions/{SLUG}/scores.csv").get_data(as_text=True).splitlines()
    assert exported[0].startswith("submission_id,participant,status,baseline")
    assert exported[1].startswith(f"{submission_id},rita,scored,True")


def test_rescore_reproduces_scores_and_reports_changes(app, client, organiser, tmp_path):
    upload(client, organiser, _zip(tmp_path))
    submission_id = _scored_submission(app, client, tmp_path)
    with app.app_context():
        before = db.session.get(Submission, submission_id).public_score
    token = organiser.csrf_token(f"/competitions/{SLUG}/all-submissions")
    client.post(f"/competitions/{SLUG}/rescore", data={"csrf_token": token})
    app.extensions["job_queue"].join()
    with app.app_context():
        run = db.session.execute(db.select(Rescore)).scalar_one()
        assert run.rescored == 1 and run.changes == [] and run.finished_at is not None
        assert db.session.get(Submission, submission_id).public_score == before
        # A changed split changes the scores; the next rescore lists them.
        db.session.execute(db.select(Competition)).scalar_one().split_seed = 99
        db.session.commit()
    client.post(f"/competitions/{SLUG}/rescore", data={"csrf_token": token})
    app.extensions["job_queue"].join()
    with app.app_context():
        latest = db.session.execute(db.select(Rescore).order_by(Rescore.id.desc())).scalars().first()
        assert [change["submission_id"] for change in latest.changes] == [submission_id]
        assert latest.changes[0]["public"][0] == before
    page = client.get(f"/competitions/{SLUG}/all-submissions").get_data(as_text=True)
    assert "1 submissions rescored, 1 changed" in page
