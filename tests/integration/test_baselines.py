"""The baselines run as a researcher runs them: against a live server, through the client, to a score."""

from __future__ import annotations

import pandas as pd
import pytest

from app.extensions import db
from app.models import Competition, Role, Submission, SubmissionStatus
from app.services.competitions import leaderboards
from app.services.competitions.bundles import import_bundle
from baselines import isolation_forest, logistic_regression, random_baseline
from tests import services
from tests.helpers import bearer, make_token, make_user, write_bundle

SLUG = "test-comp"


@pytest.fixture
def platform(app, client, tmp_path, monkeypatch):
    """A live server with a competition rita joined; the client finds it through PLAYGROUND_URL and _TOKEN."""
    folder, *_ = write_bundle(tmp_path / "bundle", n=400)
    with app.app_context():
        import_bundle(folder)
        token = make_token(make_user("rita"))
    joined = client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
    assert joined.status_code in (200, 201), joined.get_json()
    url, stop = services.serve(app)
    monkeypatch.setenv("PLAYGROUND_URL", url)
    monkeypatch.setenv("PLAYGROUND_TOKEN", token)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    yield
    stop()


def test_a_baseline_downloads_trains_submits_and_waits_for_its_score(app, platform, tmp_path, capsys):
    assert logistic_regression.main([SLUG]) == 0
    output = capsys.readouterr().out
    assert "wrote submission.csv" in output and "scored" in output
    written = pd.read_csv(tmp_path / "submission.csv")
    assert list(written.columns) == ["id", "label"] and len(written) == len(pd.read_csv(tmp_path / "data" / "test.csv"))
    with app.app_context():
        submission = db.session.execute(db.select(Submission)).scalar_one()
        assert submission.status is SubmissionStatus.SCORED and submission.public_score > 0.7
        assert submission.description == logistic_regression.DESCRIPTION


def test_no_submit_only_writes_the_file(app, platform, tmp_path):
    assert isolation_forest.main([SLUG, "--out", "forest.csv", "--no-submit"]) == 0
    assert (tmp_path / "forest.csv").is_file()
    with app.app_context():
        assert db.session.execute(db.select(Submission)).first() is None


def test_an_unknown_competition_gives_the_servers_message_and_exit_1(platform, capsys):
    assert random_baseline.main(["no-such-competition"]) == 1
    assert "error:" in capsys.readouterr().err


def test_an_organiser_submits_a_baseline_script_without_joining(app, platform, monkeypatch, capsys):
    with app.app_context():
        monkeypatch.setenv("PLAYGROUND_TOKEN", make_token(make_user("olga", Role.ORGANISER)))
    assert random_baseline.main([SLUG, "--baseline"]) == 0
    assert "scored" in capsys.readouterr().out
    with app.app_context():
        submission = db.session.execute(db.select(Submission)).scalar_one()
        assert submission.is_baseline and submission.participation_id is None and not submission.counted
        competition = db.session.execute(db.select(Competition)).scalar_one()
        (row,) = leaderboards.compute(competition, "public")
    assert (row.participant, row.rank, row.baseline) == (random_baseline.DESCRIPTION, None, True)


def test_a_researcher_cannot_pass_a_submission_off_as_a_baseline(app, platform, capsys):
    assert random_baseline.main([SLUG, "--baseline"]) == 1
    assert "Only organisers submit baselines" in capsys.readouterr().err
