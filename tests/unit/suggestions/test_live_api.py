"""Live competitions from the outside: the command, the page's form, the API's files, posts and live board."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from app.extensions import db
from app.models import Competition, DatasetVersion, Role, SuggestionSource
from app.services.competitions import eligibility
from app.services.competitions.bundles import import_bundle
from app.services.errors import Refused
from app.services.queue import get_queue
from tests.helpers import PASSWORD, bearer, make_token, make_user, write_bundle
from tests.unit.suggestions.live_data import LUMISECTIONS, PENDING_RUNS, SLUG, make_live, predictions

pytestmark = pytest.mark.databases("sqlite")


def test_competitions_create_makes_a_live_competition_on_a_published_version_and_prints_its_slug(app):
    runner = app.test_cli_runner()
    with app.app_context():
        version_id = make_live(competition=False).version_id
    result = runner.invoke(
        args=[
            "competitions",
            "create",
            "--dataset-version",
            str(version_id),
            "--slug",
            "live-two",
            "--live",
            "--metric",
            "average_precision",
            "--closes-at",
            "2031-01-01",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "live-two"
    with app.app_context():
        competition = db.session.execute(db.select(Competition).where(Competition.slug == "live-two")).scalar_one()
        assert competition.live and competition.metric == "average_precision"
        assert competition.closes_at.year == 2031 and competition.live_daily_limit == 1
        assert competition.pending_file.lumisections == len(PENDING_RUNS) * LUMISECTIONS


def test_competitions_create_refuses_a_live_competition_on_a_version_from_no_task(app):
    runner = app.test_cli_runner()
    with app.app_context():
        version_id = make_live(competition=False).version_id
        db.session.get(DatasetVersion, version_id).task_id = None
        db.session.commit()
    result = runner.invoke(
        args=["competitions", "create", "--dataset-version", str(version_id), "--slug", "live-two", "--live"]
    )
    assert result.exit_code != 0 and "not published from a labelling task" in result.output
    with app.app_context():
        assert db.session.execute(db.select(Competition.slug).where(Competition.slug == "live-two")).first() is None


def test_the_create_from_dataset_page_makes_a_live_competition(app, client, auth):
    with app.app_context():
        version_id = make_live(competition=False).version_id
        make_user("owen", Role.ORGANISER)
    auth.login("owen", PASSWORD)
    path = f"/competitions/new?dataset_version={version_id}"
    assert 'name="live"' in client.get(path).get_data(as_text=True)
    data = {
        "slug": "live-page",
        "title": "Live from the page",
        "overview": "",
        "metric": "roc_auc",
        "id_column": "id",
        "target_column": "label",
        "public_fraction": "0.3",
        "split_seed": "0",
        "daily_limit": "5",
        "final_selections": "2",
        "live": "y",
        "live_daily_limit": "3",
        "csrf_token": auth.csrf_token(path),
    }
    assert client.post(path, data=data).status_code == 302
    with app.app_context():
        competition = db.session.execute(db.select(Competition).where(Competition.slug == "live-page")).scalar_one()
        assert competition.live and competition.live_daily_limit == 3 and competition.pending_file is not None
    page = client.get("/competitions/live-page/data").get_data(as_text=True)
    assert "pending.csv" in page and "playground live live-page" in page


def test_pending_csv_is_listed_and_downloaded_like_the_other_files(app, client):
    with app.app_context():
        setting = make_live()
        token = make_token(setting.researchers[0])
        sha = setting.competition.pending_file.sha256
    files = client.get(f"/api/v1/competitions/{SLUG}/files", headers=bearer(token)).get_json()["files"]
    assert [f["name"] for f in files] == ["train.csv", "test.csv", "sample_submission.csv", "pending.csv"]
    assert files[-1]["sha256"] == sha
    response = client.get(f"/api/v1/competitions/{SLUG}/files/pending.csv", headers=bearer(token))
    content = response.get_data()
    response.close()
    assert response.status_code == 200 and response.headers["X-Content-SHA256"] == sha
    assert len(pd.read_csv(io.BytesIO(content))) == len(PENDING_RUNS) * LUMISECTIONS


def test_posting_live_predictions_over_the_api(app, client):
    with app.app_context():
        setting = make_live()
        token = make_token(setting.researchers[0])
        shifter_token = make_token(setting.shifter)
    download = client.get(f"/api/v1/competitions/{SLUG}/files/pending.csv", headers=bearer(token))
    ids = pd.read_csv(io.BytesIO(download.get_data()), dtype={"id": str})["id"]
    download.close()
    content, _ = predictions(ids)
    url = f"/api/v1/competitions/{SLUG}/live"

    def send(secret, body=content, **form):
        return client.post(url, headers=bearer(secret), data={"file": (io.BytesIO(body), "p.csv"), **form})

    assert client.post(url, data={"file": (io.BytesIO(content), "p.csv")}).status_code == 401
    assert send(shifter_token).status_code == 403
    bad = send(token, content.replace(b"\n" + ids[3].encode() + b",", b"\n999_1,", 1))
    assert bad.status_code == 400 and "999_1" in bad.get_json()["error"]["message"]
    accepted = send(token, description="first try")
    assert accepted.status_code == 202
    source_id = accepted.get_json()["source_id"]
    limited = send(token)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    with app.app_context():
        assert [s.id for s in db.session.execute(db.select(SuggestionSource)).scalars()] == [source_id]
    board = client.get(f"/api/v1/competitions/{SLUG}/live-leaderboard").get_json()
    assert board["rows"] == [
        {
            "rank": None,
            "participant": "rita0",
            "source_id": source_id,
            "score": None,
            "runs": 0,
            "lumisections": 0,
            "created_at": board["rows"][0]["created_at"],
            "evaluated_at": None,
        }
    ]


def test_a_competition_that_is_not_live_has_no_live_routes(app, client):
    with app.app_context():
        setting = make_live()
        setting.competition.live = False
        db.session.commit()
        token = make_token(setting.researchers[0])
    assert client.get(f"/api/v1/competitions/{SLUG}/live-leaderboard").status_code == 404
    posted = client.post(
        f"/api/v1/competitions/{SLUG}/live", headers=bearer(token), data={"file": (io.BytesIO(b"id,label\n"), "p.csv")}
    )
    assert posted.status_code == 404
    files = client.get(f"/api/v1/competitions/{SLUG}/files", headers=bearer(token)).get_json()["files"]
    assert "pending.csv" not in [f["name"] for f in files]


def test_a_bundle_is_live_on_the_task_its_competition_yaml_names(app, tmp_path):
    with app.app_context():
        setting = make_live(competition=False)
        folder, *_ = write_bundle(tmp_path / "nameless", spec={"live": True})
        with pytest.raises(Refused) as refused:
            import_bundle(folder)
        assert "name it with task" in str(refused.value)
        folder, *_ = write_bundle(tmp_path / "live", spec={"live": True, "task": setting.task.id})
        competition = import_bundle(folder)
        get_queue().join()
        db.session.refresh(competition)
        assert competition.live and competition.dataset_version.task_id == setting.task.id
        assert competition.pending_file.lumisections == len(PENDING_RUNS) * LUMISECTIONS
        # Scored on the task's labels: a researcher who is also a shifter may not compete on it.
        assert "cannot compete" in eligibility.why_not(competition, make_user("rex", Role.RESEARCHER, Role.SHIFTER))
