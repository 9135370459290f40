"""`flask demo`: the whole story, the same however often it is told, with leaderboards that say what the
scores say."""

from __future__ import annotations

import html
import io
import json
from collections import Counter

import pandas as pd
import pytest
from sqlalchemy import inspect

from app.extensions import db
from app.models import (
    AuditEntry,
    BadRange,
    Certification,
    Competition,
    Dataset,
    LabellingTask,
    RangeOrigin,
    ReferenceRun,
    ReviewState,
    Role,
    SourceKind,
    Status,
    Submission,
    SubmissionStatus,
    SuggestionSource,
    User,
)
from app.models.types import utcnow
from app.services.certification import agreement
from app.services.certification.queries import approval_times
from app.services.competitions import eligibility, leaderboards, phases
from app.services.datasets.version_files import runs_of
from app.services.storage import get_storage
from demo import DEMO_PASSWORD
from demo.blind import TASK_NAME as BLIND_TASK
from demo.competitions import CLOSED, GENERAL, RUNNING, TEAM
from demo.loop import ACCEPTED_RUN, BLIND_RUN, LEFT_RUN, MODEL_NAME, UNCHANGED_RUN
from demo.tracker import DATASET_SLUG, TASK_NAME
from tests.conftest import AuthActions

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
    certifications_show_bad_runs_excluded_components_and_low_statistics(app)
    nobody_reviewed_their_own_certification(app)
    the_double_blind_task_has_disagreements_and_a_kappa(app, client)
    accounts_have_deliverable_addresses_and_researchers_only_research(app)
    the_dataset_carries_monitoring_element_features_and_histograms(app)
    every_submission_is_scored_and_boards_rank_baselines_by_their_scores(app)
    baselines_come_from_an_organiser_who_does_not_compete(app)
    submissions_are_spread_over_the_competitions_days_within_quotas(app)
    no_two_competitions_share_a_solution(app)
    the_closed_competition_shows_a_shake_up(app, client)
    the_running_competition_has_a_team_of_two_ranked_as_one(app)
    a_lumisection_is_drawn_beside_a_good_reference(app, client)
    the_loop_suggests_to_shifters_and_measures_models_and_shifters(app, client)
    the_running_competition_moved_from_development_to_a_final_phase_on_later_runs(app, client)


def the_labelling_task_is_in_progress(app):
    with app.app_context():
        task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == TASK_NAME)).scalar_one()
        states = [
            c.review_state
            for c in db.session.execute(db.select(Certification).where(Certification.task_id == task.id)).scalars()
        ]
        assert states.count(ReviewState.APPROVED) > 5
        # Two runs were awaiting review at the publication; one was approved since, for the final phase.
        assert states.count(ReviewState.PENDING) == 1 and states.count(ReviewState.REJECTED) == 1
        assert len(states) < len(task.runs)  # runs are left for the newcomer to certify


def certifications_show_bad_runs_excluded_components_and_low_statistics(app):
    with app.app_context():
        task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == TASK_NAME)).scalar_one()
        everything = db.session.execute(db.select(Certification)).scalars().all()
        approved = [c for c in everything if c.task_id == task.id and c.review_state is ReviewState.APPROVED]
        assert any(c.any_bad for c in approved)  # a run bad as a whole, approved: out of the golden JSON
        assert any(c.pixel_lowstat and c.strip_lowstat and c.tracking_lowstat for c in approved)
        assert any(c.bad_ranges for c in approved)
        assert any(Status.EXCLUDED in (c.pixel, c.strip, c.tracking) for c in everything)


def nobody_reviewed_their_own_certification(app):
    with app.app_context():
        certifiers = {i: c for i, c in db.session.execute(db.select(Certification.id, Certification.certifier_id))}
        reviews = (
            db.session.execute(db.select(AuditEntry).where(AuditEntry.action.in_(["approve", "reject"])))
            .scalars()
            .all()
        )
        assert len(reviews) > 10
        assert all(entry.user_id != certifiers[entry.entity_id] for entry in reviews)
        references = db.session.execute(db.select(ReferenceRun)).scalars().all()
        assert references
        for reference in references:
            (certified,) = db.session.execute(
                db.select(Certification).where(
                    Certification.run_number == reference.run_number, Certification.reco == reference.reco
                )
            ).scalars()
            assert reference.promoted_by_id != certified.certifier_id


def the_double_blind_task_has_disagreements_and_a_kappa(app, client):
    with app.app_context():
        task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == BLIND_TASK)).scalar_one()
        assert task.double_certification
        compared = agreement.task_agreement(task)
        task_id = task.id
    assert len(compared.runs) >= 8 and compared.disagreements
    assert any(value is not None and value < 1 for value in compared.kappa.values())
    auth = AuthActions(client)
    auth.login("lea", DEMO_PASSWORD)
    shown = client.get(f"/tasks/{task_id}/agreement").get_data(as_text=True)
    assert 'data-testid="disagreement-' in shown and 'data-testid="kappa-pixel">n/a' not in shown
    auth.logout()


def accounts_have_deliverable_addresses_and_researchers_only_research(app):
    with app.app_context():
        users = db.session.execute(db.select(User)).scalars().all()
        assert all(user.email == f"{user.username}@example.org" for user in users)
        assert all(user.roles == {Role.RESEARCHER} for user in users if user.username in ("rita", "ravi", "mia"))


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
            board = leaderboards.compute(competition, "public", competition.phases[0])  # the running one's development
            scores = [row.score for row in board]
            assert scores == sorted(scores, reverse=True)
            baselines = {row.submission_id: row.score for row in board if row.baseline}
            assert len(baselines) == 3
            by_name = {db.session.get(Submission, i).description: score for i, score in baselines.items()}
            assert by_name["Random baseline"] < by_name["Logistic regression on monitoring-element summaries"]
            assert 0.3 < by_name["Random baseline"] < 0.7


def baselines_come_from_an_organiser_who_does_not_compete(app):
    with app.app_context():
        olga = db.session.execute(db.select(User).where(User.username == "olga")).scalar_one()
        for competition in db.session.execute(db.select(Competition)).scalars():
            assert olga.id not in {p.user_id for p in competition.participations}
            baselines = [row for row in leaderboards.compute(competition, "public") if row.baseline]
            assert baselines and all(row.participant != "olga" for row in baselines)
        running = db.session.execute(db.select(Competition).where(Competition.slug == RUNNING)).scalar_one()
        assert "You published the data of this competition" in eligibility.why_not(running, olga)


def submissions_are_spread_over_the_competitions_days_within_quotas(app):
    with app.app_context():
        now = utcnow()
        for competition in db.session.execute(db.select(Competition)).scalars():
            made = (
                db.session.execute(db.select(Submission).where(Submission.competition_id == competition.id))
                .scalars()
                .all()
            )
            days = Counter((s.participation_id, s.submitted_at.date()) for s in made if not s.is_baseline)
            assert max(days.values()) <= competition.daily_limit
            assert len({s.submitted_at.date() for s in made}) >= 3
            end = competition.closes_at if competition.phase().value == "closed" else now
            assert all(competition.opens_at <= s.submitted_at < end for s in made)
            assert all(s.submitted_at <= s.finished_at < end for s in made)


def no_two_competitions_share_a_solution(app):
    with app.app_context():
        solutions = [c.solution_file.sha256 for c in db.session.execute(db.select(Competition)).scalars()]
        assert len(set(solutions)) == len(solutions) == 3


def the_closed_competition_shows_a_shake_up(app, client):
    with app.app_context():
        competition = db.session.execute(db.select(Competition).where(Competition.slug == CLOSED)).scalar_one()
        assert competition.phase().value == "closed"
        public = {row.participant: row.rank for row in leaderboards.compute(competition, "public") if row.rank}
        private = {row.participant: row.rank for row in leaderboards.compute(competition, "private") if row.rank}
    assert public != private and set(public) == set(private)
    page = client.get(f"/competitions/{CLOSED}/leaderboard?board=private").get_data(as_text=True)
    assert "rita" in page and "ravi" in page  # the private board is revealed to everyone once closed


def the_running_competition_has_a_team_of_two_ranked_as_one(app):
    with app.app_context():
        competition = db.session.execute(db.select(Competition).where(Competition.slug == RUNNING)).scalar_one()
        board = [row for row in leaderboards.compute(competition, "public") if not row.baseline]
        (team,) = [row for row in board if row.team is not None]
        assert (team.participant, team.members) == (TEAM, ("rita", "ravi"))
        assert {row.participant for row in board} == {TEAM, "mia"}


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


def the_loop_suggests_to_shifters_and_measures_models_and_shifters(app, client):
    with app.app_context():
        task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == TASK_NAME)).scalar_one()
        sources = db.session.execute(db.select(SuggestionSource).where(SuggestionSource.task_id == task.id)).scalars()
        by_kind = {s.kind: s for s in sources}
        assert set(by_kind) == {SourceKind.UPLOAD, SourceKind.LIVE} and all(s.active for s in by_kind.values())
        assert by_kind[SourceKind.LIVE].live is not None  # scored on the runs approved after it was posted
        task_id = task.id
        (blind_first,) = db.session.execute(
            db.select(Certification).where(Certification.task_id == task_id, Certification.run_number == BLIND_RUN)
        ).scalars()
        actions = db.session.execute(
            db.select(AuditEntry.action)
            .where(AuditEntry.entity == "certification", AuditEntry.entity_id == blind_first.id)
            .order_by(AuditEntry.id)
        ).scalars()
        assert list(actions)[:2] == ["certify", "edit"]  # the first, blind answer stays in the audit log
        assert blind_first.blind and blind_first.bad_ranges[0].origin is RangeOrigin.SUGGESTED
        origins = db.session.execute(
            db.select(BadRange.origin)
            .join(Certification)
            .where(Certification.task_id == task_id, Certification.run_number.in_([ACCEPTED_RUN, UNCHANGED_RUN]))
        ).scalars()
        assert set(origins) == {RangeOrigin.SUGGESTED, RangeOrigin.SUGGESTED_EDITED}
    auth = AuthActions(client)
    auth.login("lea", DEMO_PASSWORD)
    models = client.get(f"/tasks/{task_id}/models").get_data(as_text=True)
    assert MODEL_NAME in html.unescape(models) and 'data-testid="shifter-tom"' in models
    assert f"/tasks/{task_id}/models" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("sam", DEMO_PASSWORD)
    left = client.get(f"/tasks/{task_id}/runs/{LEFT_RUN}").get_data(as_text=True)
    assert left.count('data-testid="source"') == 2 and 'data-testid="suggested-range"' in left
    auth.logout()


def the_running_competition_moved_from_development_to_a_final_phase_on_later_runs(app, client):
    with app.app_context():
        competition = db.session.execute(db.select(Competition).where(Competition.slug == RUNNING)).scalar_one()
        development, final = competition.phases
        assert [p["state"] for p in phases.phases_as_json(competition)] == ["closed", "open"]
        development_runs = runs_of(competition.dataset_version)
        approved = approval_times(competition.dataset_version.task_id)
        in_final = runs_of(final.dataset_version)
        assert in_final and not in_final & development_runs
        assert all(approved[run] > competition.dataset_version.created_at for run in in_final)
        assert {ACCEPTED_RUN, UNCHANGED_RUN, BLIND_RUN} <= in_final and LEFT_RUN not in in_final
        made = db.session.execute(db.select(Submission).where(Submission.competition_id == competition.id)).scalars()
        by_phase = Counter(s.phase_id for s in made)
        assert by_phase[development.id] > by_phase[final.id] > 0
        entrants = {row.participant for row in leaderboards.compute(competition, "public", final) if not row.baseline}
        assert entrants == {"mia", TEAM}  # ravi submitted for his team
    revealed = client.get(f"/competitions/{RUNNING}/leaderboard?phase=development&board=private")
    assert revealed.status_code == 200 and "mia" in revealed.get_data(as_text=True)
    assert client.get(f"/competitions/{RUNNING}/leaderboard?board=private").status_code == 403
