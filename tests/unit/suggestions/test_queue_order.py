"""The next run for a shifter: the task's order over the runs nobody else holds and the shifter may certify."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import QueueOrder, Role, RunClaim, TaskRun
from app.models.types import utcnow
from app.services.suggestions import store
from app.services.suggestions.queue_order import next_run, open_runs_in_order
from tests.helpers import make_user
from tests.unit.suggestions.tasks import add_source, certify, make_task

pytestmark = pytest.mark.databases("sqlite", "postgresql")

# Mean distance to the threshold 0.5: 0.4 for 101, 0.05 for 102, 0.2 for 103, 0.1 for 104.
SCORES = {101: 0.9, 102: 0.55, 103: 0.3, 104: 0.6}


def uncertain_task(**settings):
    task = make_task({run: range(1, 4) for run in SCORES}, order=QueueOrder.UNCERTAINTY, **settings)
    add_source(task, {run: dict.fromkeys(range(1, 4), score) for run, score in SCORES.items()})
    return task


def in_order(task, user) -> list[int]:
    return list(db.session.execute(open_runs_in_order(task, user.id)).scalars())


def claim(task, run, user, minutes: int = 20) -> None:
    db.session.add(
        RunClaim(task_id=task.id, run_number=run, user_id=user.id, expires_at=utcnow() + timedelta(minutes=minutes))
    )
    db.session.commit()


def test_next_follows_the_uncertainty_ranks_or_the_run_numbers(app):
    with app.app_context():
        task = uncertain_task()
        sam = make_user("sam", Role.SHIFTER)
        assert in_order(task, sam) == [102, 104, 103, 101]
        assert next_run(task, sam.id) == 102
        assert next_run(task, sam.id, order="run") == 101


def test_next_skips_runs_others_hold_and_runs_already_certified(app):
    with app.app_context():
        task = uncertain_task()
        sam, ria = make_user("sam", Role.SHIFTER), make_user("ria", Role.SHIFTER)
        claim(task, 102, ria)
        claim(task, 104, ria, minutes=-1)  # expired: free again
        claim(task, 103, sam)  # the shifter's own claim does not hide the run from them
        certify(task, 101, ria)
        assert in_order(task, sam) == [104, 103]
        assert in_order(task, ria) == [102, 104]  # her own claim on 102; sam holds 103; 101 is certified
        certify(task, 104, sam)
        certify(task, 103, sam)
        assert next_run(task, sam.id) is None


def test_with_double_certification_a_run_is_open_to_a_second_certifier_whoever_holds_it(app):
    with app.app_context():
        task = uncertain_task(double_certification=True)
        sam, ria, lou = (make_user(name, Role.SHIFTER) for name in ("sam", "ria", "lou"))
        certify(task, 102, ria)
        claim(task, 102, ria)
        assert next_run(task, sam.id) == 102  # one copy done: the second certifier may take it
        assert next_run(task, ria.id) == 104  # not twice by the same shifter
        certify(task, 102, sam, copy=2)
        assert next_run(task, lou.id) == 104  # two copies: done


def test_runs_gained_after_the_last_ranking_come_after_the_ranked_ones(app):
    with app.app_context():
        task = uncertain_task()
        sam = make_user("sam", Role.SHIFTER)
        extra = make_task({100: range(1, 4)})  # run 100 exists; then the task gains it
        db.session.add(TaskRun(task_id=task.id, run_number=100))
        db.session.commit()
        assert extra.id != task.id and in_order(task, sam) == [102, 104, 103, 101, 100]
        store.rank_runs(task)
        db.session.commit()
        assert in_order(task, sam)[-1] == 100  # unscored: last in uncertainty order too
