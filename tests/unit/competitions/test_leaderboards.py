"""Leaderboard rules: best per participant, ties to the earlier, baselines unranked, finals on the private board."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest

from app.extensions import db
from app.models import Competition, Role, Submission, User
from app.models.types import utcnow
from app.services.competitions import leaderboards, submissions
from app.services.competitions.bundles import import_bundle
from tests.helpers import make_user, predictions_csv, write_bundle


@pytest.fixture
def world(app, tmp_path):
    """A competition (Usage column: even rows public) and a way to submit chosen scores as anyone."""
    folder, ids, labels, _ = write_bundle(tmp_path / "bundle", solution_usage=True)
    with app.app_context():
        import_bundle(folder)
    public = np.arange(len(ids)) % 2 == 0

    def submit(username: str, quality: float, *, baseline: bool = False, seed: int = 0) -> int:
        """A submission whose scores agree with the labels more as quality grows."""
        rng = np.random.default_rng(seed)
        scores = labels * quality + rng.random(len(labels))
        with app.app_context():
            competition = db.session.execute(db.select(Competition)).scalar_one()
            user = db.session.execute(db.select(User).where(User.username == username)).scalar_one_or_none()
            user = user or make_user(username, Role.ORGANISER if baseline else Role.RESEARCHER)
            if not baseline:  # organisers submit baselines without joining
                submissions.join(competition, user)
                db.session.commit()
            submission = submissions.submit(
                competition,
                user,
                io.BytesIO(predictions_csv(ids, scores)),
                file_name="p.csv",
                description="Strong baseline" if baseline else "",
                baseline=baseline,
            )
            app.extensions["job_queue"].join()
            return submission.id

    return {"submit": submit, "public": public, "app": app}


def board(app, which="public"):
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        return leaderboards.compute(competition, which)


def score_of(app, submission_id, column="public_score"):
    with app.app_context():
        return getattr(db.session.get(Submission, submission_id), column)


def test_each_participant_appears_once_with_their_best(world):
    app, submit = world["app"], world["submit"]
    worse, better = submit("rita", 0.1, seed=1), submit("rita", 2.0, seed=2)
    submit("ravi", 0.5, seed=3)
    rows = board(app)
    assert [r.participant for r in rows] == ["rita", "ravi"]
    assert rows[0].score == score_of(app, better) and rows[0].submission_id == better
    assert rows[0].submissions == 2 and score_of(app, worse) < rows[0].score


def test_ties_go_to_the_earlier_submission(world):
    app, submit = world["app"], world["submit"]
    first = submit("rita", 1.0, seed=5)
    second = submit("ravi", 1.0, seed=5)  # the same predictions, later
    rows = board(app)
    assert rows[0].score == rows[1].score
    assert [(r.rank, r.submission_id) for r in rows] == [(1, first), (2, second)]


def test_baselines_are_listed_marked_and_not_ranked(world):
    app, submit = world["app"], world["submit"]
    submit("rita", 0.3, seed=1)
    baseline = submit("olga", 5.0, baseline=True, seed=2)
    rows = board(app)
    assert rows[0].baseline and rows[0].rank is None and rows[0].submission_id == baseline
    assert rows[0].participant == "Strong baseline"  # the baseline's name, not the organiser's
    assert rows[1].participant == "rita" and rows[1].rank == 1


def test_baselines_cost_no_quota(world):
    app, submit = world["app"], world["submit"]
    submit("olga", 1.0, baseline=True)
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        user = db.session.execute(db.select(User).where(User.username == "olga")).scalar_one()
        quota = submissions.quota_for(competition, submissions.participation_of(competition, user))
        assert quota.remaining_today == competition.daily_limit


def _close(app):
    with app.app_context():
        db.session.execute(db.select(Competition)).scalar_one().closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def test_private_board_ranks_selected_finals(world):
    app, submit = world["app"], world["submit"]
    ids = [submit("rita", q, seed=s) for q, s in ((3.0, 1), (0.2, 2), (1.0, 3))]
    submit("ravi", 1.5, seed=4)
    with app.app_context():
        submissions.select_final(db.session.get(Submission, ids[1]))  # a deliberately poor final
    _close(app)
    rita = next(r for r in board(app, "private") if r.participant == "rita")
    assert rita.submission_id == ids[1] and rita.score == score_of(app, ids[1], "private_score")


def test_private_board_without_selection_uses_best_public_submissions(world):
    app, submit = world["app"], world["submit"]
    ids = [submit("rita", q, seed=s) for q, s in ((0.1, 1), (0.2, 2), (3.0, 3))]
    _close(app)
    (row,) = board(app, "private")
    # Without finals, the two best public submissions compete on the private score.
    best_two = sorted(ids, key=lambda i: score_of(app, i), reverse=True)[:2]
    assert row.submission_id in best_two
    assert row.score == max(score_of(app, i, "private_score") for i in best_two)


def test_rank_change_from_public_to_private(world):
    app, submit = world["app"], world["submit"]
    for name, quality, seed in (("rita", 1.0, 1), ("ravi", 1.0, 2), ("lena", 1.0, 3)):
        submit(name, quality, seed=seed)
    _close(app)
    public = {r.participant: r.rank for r in board(app)}
    for row in board(app, "private"):
        assert row.public_rank == public[row.participant]
        assert row.rank_change == public[row.participant] - row.rank


def test_cached_board_is_refreshed_when_a_score_lands(world):
    app, submit = world["app"], world["submit"]
    submit("rita", 1.0, seed=1)
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        assert [r.participant for r in leaderboards.get(competition)] == ["rita"]
    submit("ravi", 1.0, seed=2)
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        assert {r.participant for r in leaderboards.get(competition)} == {"rita", "ravi"}
