"""A two-phase competition on PostgreSQL, Redis with a real worker and S3: each submission scored against its own
phase's solution, a closed phase refusing, boards by ?phase=; and a competition without phases as before."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest

import scorers
from app.extensions import db
from app.models import Competition, Role
from app.models.types import utcnow
from app.services.competitions.bundles import import_bundle
from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle, write_phased_bundle
from tests.integration.conftest import run_worker

pytestmark = [pytest.mark.redis, pytest.mark.s3, pytest.mark.databases("postgresql")]
SLUG = "test-comp"
API = f"/api/v1/competitions/{SLUG}"


def _submit(client, token: str, ids, scores, **fields):
    data = {"file": (io.BytesIO(predictions_csv(ids, scores)), "p.csv"), **fields}
    return client.post(f"{API}/submissions", headers=bearer(token), data=data)


def _move_to_final(app) -> None:
    """Time passes: the development phase closed a minute ago and the final phase is open."""
    with app.app_context():
        development, final = db.session.execute(db.select(Competition)).scalar_one().phases
        development.closes_at = final.opens_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def test_each_phase_scores_against_its_own_solution_and_keeps_its_own_boards(stack, tmp_path):
    client = stack.test_client()
    boundary = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    folder, dev_ids, dev_x, final_ids, final_x, _ = write_phased_bundle(
        tmp_path / "bundle", dev_closes=boundary.isoformat(), final={"metric": "log_loss"}
    )
    with stack.app_context():
        import_bundle(folder)
        rita, ravi = make_token(make_user("rita")), make_token(make_user("ravi"))
    for token in (rita, ravi):
        assert client.post(f"{API}/join", headers=bearer(token), json={"accept_rules": True}).status_code == 200

    listed = client.get(f"{API}/phases").get_json()["phases"]
    assert [(p["name"], p["state"], p["current"]) for p in listed] == [
        ("development", "open", True),
        ("final", "upcoming", False),
    ]
    assert listed[1]["opens_at"] == listed[0]["closes_at"] == boundary.isoformat()
    assert listed[1]["metric"] == "log_loss" and listed[1]["test_file"] == "test_final.csv"
    files = client.get(f"{API}/files", headers=bearer(rita)).get_json()["files"]
    assert "test_final.csv" not in {f["name"] for f in files}  # out only once the final phase opens
    assert client.get(f"{API}/files/test_final.csv", headers=bearer(rita)).status_code == 404

    assert _submit(client, rita, dev_ids, dev_x).status_code == 202
    assert _submit(client, ravi, dev_ids, -dev_x).status_code == 202
    early = _submit(client, rita, final_ids, final_x, phase="final")
    assert early.status_code == 403 and "The phase 'final' opens at" in early.get_json()["error"]["message"]
    run_worker(stack)
    upcoming = client.get(f"{API}/leaderboard?phase=final")
    assert upcoming.status_code == 200 and upcoming.get_json()["rows"] == []

    _move_to_final(stack)
    refused = _submit(client, rita, dev_ids, dev_x, phase="development")
    message = refused.get_json()["error"]["message"]
    assert refused.status_code == 403 and message.startswith("The phase 'development' closed at")
    assert "only the current phase, 'final', does" in message
    probabilities = 1 / (1 + np.exp(-final_x))
    assert _submit(client, rita, final_ids, probabilities).status_code == 202
    assert _submit(client, ravi, dev_ids, dev_x).status_code == 202  # made now: a final-phase submission
    run_worker(stack)

    mine = {
        s["phase"]: s
        for s in client.get(f"{API}/submissions", headers=bearer(ravi)).get_json()["submissions"]
        if s["status"] != "queued"
    }
    assert mine["final"]["status"] == "failed" and "ls0" in mine["final"]["error"]  # development ids are unknown
    assert mine["development"]["status"] == "scored"
    development_board = client.get(f"{API}/leaderboard?phase=development").get_json()
    assert [row["participant"] for row in development_board["rows"]] == ["rita", "ravi"]
    assert development_board["phase"] == "development"
    default_board = client.get(f"{API}/leaderboard").get_json()
    assert default_board["phase"] == "final" and [row["participant"] for row in default_board["rows"]] == ["rita"]
    expected = scorers.score_files(
        "log_loss",
        folder / "solution_final.csv",
        io.BytesIO(predictions_csv(final_ids, probabilities)),
        public_fraction=0.5,
        split_seed=3,
    )
    assert default_board["rows"][0]["score"] == pytest.approx(expected.public)  # the final phase's metric and solution
    revealed = client.get(f"{API}/leaderboard?phase=development&board=private")
    assert revealed.status_code == 200 and len(revealed.get_json()["rows"]) == 2
    assert client.get(f"{API}/leaderboard?phase=final&board=private").status_code == 403
    unknown = client.get(f"{API}/leaderboard?phase=semifinal")
    assert unknown.status_code == 404
    assert "its phases: development, final" in unknown.get_json()["error"]["message"]
    page = client.get(f"/competitions/{SLUG}/leaderboard?phase=development").get_data(as_text=True)
    assert 'data-testid="phase-tabs"' in page and "ravi" in page


def test_a_submission_is_scored_against_the_solution_of_its_phase(stack, tmp_path):
    """The provenance of each score names its own phase's solution."""
    client = stack.test_client()
    boundary = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    folder, dev_ids, dev_x, final_ids, final_x, _ = write_phased_bundle(
        tmp_path / "bundle", dev_closes=boundary.isoformat()
    )
    with stack.app_context():
        competition = import_bundle(folder)
        solutions = {p.name: p.solution.sha256 for p in competition.phases}
        rita = make_token(make_user("rita"))
        olga = make_token(make_user("olga", Role.ORGANISER))
    client.post(f"{API}/join", headers=bearer(rita), json={"accept_rules": True})
    first = _submit(client, rita, dev_ids, dev_x).get_json()["id"]
    _move_to_final(stack)
    second = _submit(client, rita, final_ids, final_x).get_json()["id"]
    run_worker(stack)
    for submission_id, phase in ((first, "development"), (second, "final")):
        body = client.get(f"/api/v1/submissions/{submission_id}", headers=bearer(olga)).get_json()
        assert (body["phase"], body["status"], body["solution_sha256"]) == (phase, "scored", solutions[phase])
    assert solutions["development"] != solutions["final"]


def test_a_competition_without_phases_behaves_as_before(stack, tmp_path):
    client = stack.test_client()
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with stack.app_context():
        import_bundle(folder)
        rita = make_token(make_user("rita"))
    client.post(f"{API}/join", headers=bearer(rita), json={"accept_rules": True})
    (phase,) = client.get(f"{API}/phases").get_json()["phases"]
    assert (phase["name"], phase["state"], phase["current"], phase["opens_at"], phase["closes_at"]) == (
        "main",
        "open",
        True,
        None,
        None,
    )
    names = {f["name"] for f in client.get(f"{API}/files", headers=bearer(rita)).get_json()["files"]}
    assert names == {"train.csv", "test.csv", "sample_submission.csv"}
    assert _submit(client, rita, ids, x).status_code == 202
    run_worker(stack)
    board = client.get(f"{API}/leaderboard").get_json()
    assert [row["participant"] for row in board["rows"]] == ["rita"] and board["phase"] == "main"
    assert client.get(f"{API}/leaderboard?phase=main").get_json()["rows"] == board["rows"]
    page = client.get(f"/competitions/{SLUG}/leaderboard").get_data(as_text=True)
    assert "phase-tabs" not in page and "rita" in page
    with stack.app_context():
        db.session.execute(db.select(Competition)).scalar_one().closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    closed = _submit(client, rita, ids, x)
    assert closed.status_code == 403
    assert closed.get_json()["error"]["message"].startswith("The competition closed at")
    assert client.get(f"{API}/leaderboard?board=private").status_code == 200
