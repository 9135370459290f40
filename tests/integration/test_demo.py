"""`flask demo`: the whole story, the same however often it is told, with leaderboards that say what the
scores say."""

from __future__ import annotations

import html
import io
import json

import pandas as pd
import pytest
from sqlalchemy import inspect

from app.extensions import db
from app.models import Certification, Competition, Dataset, LabellingTask, ReviewState, Submission, SubmissionStatus
from app.services import leaderboards
from app.services.demo_competitions import CLOSED, GENERAL, RUNNING
from app.services.demo_tracker import DATASET_SLUG, TASK_NAME
from app.services.storage import get_storage

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def table_contents(app) -> dict[str, int]:
    """Rows per table, and the ids and scores of submissions: what a second seeding must leave as it was."""
    with app.app_context():
        counts = {
            name: db.session.execute(db.text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
            for name in inspect(db.engine).get_table_names()
            if name != "alembic_version"
        }
        scores = db.session.execute(db.select(Submission.id, Submission.public_score).order_by(Submission.id)).all()
        return counts | {"scores": [tuple(row) for row in scores]}


def test_the_demo_tells_the_whole_story_the_same_however_often_it_is_seeded(app, client, runner):
    """Seeding takes a while, so one test seeds twice and walks through everything the demo promises."""
    seeded = runner.invoke(args=["demo"])
    assert seeded.exit_code == 0, seeded.output
    assert "rita   / playground-demo: researcher" in seeded.output and "Demo ready in" in seeded.output
    once = table_contents(app)
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert table_contents(app) == once
    assert once["runs"] == 20 and once["competitions"] == 3

    the_labelling_task_is_in_progress(app)
    the_dataset_carries_monitoring_element_features_and_histograms(app)
    every_submission_is_scored_and_boards_rank_baselines_by_their_scores(app)
    the_closed_competition_shows_a_shake_up(app, client)
    a_lumisection_is_drawn_beside_a_good_reference(app, client)


def the_labelling_task_is_in_progress(app):
    with app.app_context():
        task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == TASK_NAME)).scalar_one()
        states = [
            c.review_state
            for c in db.session.execute(db.select(Certification).where(Certification.task_id == task.id)).scalars()
        ]
        assert states.count(ReviewState.APPROVED) > 5
        assert states.count(ReviewState.PENDING) == 2 and states.count(ReviewState.REJECTED) == 1
        assert len(states) < len(task.runs)  # runs are left for the newcomer to certify


def the_dataset_carries_monitoring_element_features_and_histograms(app):
    with app.app_context():
        version = db.session.execute(db.select(Dataset).where(Dataset.slug == DATASET_SLUG)).scalar_one().latest
        names = {f.name for f in version.public_files}
        assert {"train.csv", "test.csv", "monitoring_elements.parquet"} <= names
        train_file = next(f for f in version.public_files if f.name == "train.csv")
        with get_storage().open(train_file.storage_key) as handle:
            train = pd.read_csv(io.BytesIO(handle.read()))
        assert any(c.startswith("pixelphase1_tracks_pxbarrel_clusterposition_zphi") for c in train.columns)
        assert 0 < train["label"].mean() < 0.2


def every_submission_is_scored_and_boards_rank_baselines_by_their_scores(app):
    with app.app_context():
        statuses = set(db.session.execute(db.select(Submission.status)).scalars())
        assert statuses == {SubmissionStatus.SCORED}
        for slug in (RUNNING, GENERAL):
            competition = db.session.execute(db.select(Competition).where(Competition.slug == slug)).scalar_one()
            board = leaderboards.compute(competition, "public")
            scores = [row.score for row in board]
            assert scores == sorted(scores, reverse=True)
            baselines = {row.submission_id: row.score for row in board if row.baseline}
            assert len(baselines) == 3
            by_name = {db.session.get(Submission, i).description: score for i, score in baselines.items()}
            assert by_name["Random baseline"] < by_name["Logistic regression on monitoring-element summaries"]
            assert 0.3 < by_name["Random baseline"] < 0.7


def the_closed_competition_shows_a_shake_up(app, client):
    with app.app_context():
        competition = db.session.execute(db.select(Competition).where(Competition.slug == CLOSED)).scalar_one()
        assert competition.phase().value == "closed"
        public = {row.participant: row.rank for row in leaderboards.compute(competition, "public") if row.rank}
        private = {row.participant: row.rank for row in leaderboards.compute(competition, "private") if row.rank}
    assert public != private and set(public) == set(private)
    page = client.get(f"/competitions/{CLOSED}/leaderboard?board=private").get_data(as_text=True)
    assert "rita" in page and "ravi" in page  # the private board is revealed to everyone once closed


def a_lumisection_is_drawn_beside_a_good_reference(app, client):
    with app.app_context():
        version = db.session.execute(db.select(Dataset).where(Dataset.slug == DATASET_SLUG)).scalar_one().latest
        train_file = next(f for f in version.public_files if f.name == "train.csv")
        with get_storage().open(train_file.storage_key) as handle:
            train = pd.read_csv(io.BytesIO(handle.read()), usecols=["run_number", "lumisection", "label"])
    bad = train[train["label"] == 1].iloc[0]
    run, ls = int(bad["run_number"]), int(bad["lumisection"])
    page = client.get(f"/datasets/{DATASET_SLUG}/v1/runs/{run}/ls/{ls}").get_data(as_text=True)
    assert 'data-testid="label">bad<' in page and "(good reference)" in page
    charts = [json.loads(html.unescape(chunk.split("'")[0])) for chunk in page.split("data-figure='")[1:]]
    assert len(charts) == 4  # two maps and two distributions
    kinds = sorted(trace["type"] for chart in charts for trace in chart["data"])
    assert kinds == ["bar"] * 4 + ["heatmap"] * 4  # this lumisection and its reference, side by side
    opened = client.get(f"/datasets/{DATASET_SLUG}/v1/runs/{run}/ls?ls={ls}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/runs/{run}/ls/{ls}")
