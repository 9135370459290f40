"""The baselines run as a researcher runs them: against a live server, through the client, to a score."""

from __future__ import annotations

import pandas as pd
import pytest

from app.extensions import db
from app.models import Submission, SubmissionStatus
from app.services.bundles import import_bundle
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
