"""certification.queue decides who may certify a run and which run comes next; certification.queries counts
task progress once, for the task page, the API and the home page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Certification, LabellingTask, QueueOrder, Role, RunClaim, User
from app.models.types import utcnow
from app.services.certification import queries, queue, workflow
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file
from app.services.suggestions import queue_order
from tests.helpers import PASSWORD, bearer, make_token, make_user
from tests.unit.suggestions.tasks import add_source, make_task

RUNS = (315257, 315259, 315264)
CHECKLIST = {"general": True, "pixel": True, "strip": True, "tracking": True}
pytestmark = pytest.mark.databases("sqlite", "postgresql")
ROLES = {
    "sam": Role.SHIFTER,
    "sue": Role.SHIFTER,
    "lea": Role.SHIFT_LEADER,
    "max": Role.SHIFT_LEADER,
    "olga": Role.ORGANISER,
    "rita": Role.RESEARCHER,
}


@pytest.fixture
def desk(app, tmp_path):
    """Three runs, a user of each role, a task certified once and a task certified twice (blind)."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
        for name, role in ROLES.items():
            make_user(name, role)
        single = create_task("express-2018", "express").id
        double = create_task("blind-2018", "express", double=True).id
    return {"single": single, "double": double}


def user(name: str) -> User:
    return db.session.execute(db.select(User).where(User.username == name)).scalar_one()


def certify(task_id: int, name: str, run: int) -> int:
    body = {"run_number": run, "pixel": "good", "strip": "good", "tracking": "good", "checklist": CHECKLIST}
    return workflow.certify(db.session.get(LabellingTask, task_id), user(name), body).id


def of_run(task: LabellingTask, run: int):
    return queries.certifications_by_run(task).get(run, [])


@pytest.mark.parametrize(("name", "allowed"), [("sam", True), ("lea", True), ("olga", False), ("rita", False)])
def test_only_shifters_and_shift_leaders_may_certify_an_open_run(app, desk, name, allowed):
    with app.app_context():
        task = db.session.get(LabellingTask, desk["single"])
        assert queue.may_certify(task, user(name), of_run(task, RUNS[0])) is allowed


def test_nobody_may_certify_a_run_the_task_has_enough_certifications_of(app, desk):
    with app.app_context():
        certify(desk["single"], "sam", RUNS[0])
        task = db.session.get(LabellingTask, desk["single"])
        assert not queue.may_certify(task, user("sam"), of_run(task, RUNS[0]))
        assert not queue.may_certify(task, user("sue"), of_run(task, RUNS[0]))
        assert queue.may_certify(task, user("sue"), of_run(task, RUNS[1]))


def test_double_certification_takes_a_second_certifier_but_not_the_first_again(app, desk):
    with app.app_context():
        certify(desk["double"], "sam", RUNS[0])
        task = db.session.get(LabellingTask, desk["double"])
        assert not queue.may_certify(task, user("sam"), of_run(task, RUNS[0]))
        assert queue.may_certify(task, user("sue"), of_run(task, RUNS[0]))
        certify(desk["double"], "sue", RUNS[0])
        assert not queue.may_certify(task, user("lea"), of_run(task, RUNS[0]))


def test_another_shifters_claim_does_not_forbid_certifying(app, desk):
    with app.app_context():
        task = db.session.get(LabellingTask, desk["single"])
        assert queue.claim(task, RUNS[0], user("sam")) is None
        held = queue.claim(task, RUNS[0], user("sue"))
        assert held is not None and held.user.username == "sam"
        assert queue.may_certify(task, user("sue"), of_run(task, RUNS[0]))


def test_next_run_skips_runs_certified_or_claimed_by_others(app, desk):
    with app.app_context():
        task = db.session.get(LabellingTask, desk["single"])
        assert queue.next_run(task, user("sam")) == RUNS[0]
        queue.claim(task, RUNS[0], user("sue"))
        assert queue.next_run(task, user("sam")) == RUNS[1]
        assert queue.next_run(task, user("sue")) == RUNS[0]  # one's own claim keeps the run open
        certify(desk["single"], "lea", RUNS[1])
        assert queue.next_run(task, user("sam")) == RUNS[2]


def test_an_expired_claim_frees_the_run(app, desk):
    with app.app_context():
        task = db.session.get(LabellingTask, desk["single"])
        queue.claim(task, RUNS[0], user("sue"))
        claim = db.session.execute(db.select(RunClaim)).scalar_one()
        claim.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert queue.next_run(task, user("sam")) == RUNS[0]


def test_next_run_after_a_run_goes_onwards_then_from_the_start(app, desk):
    with app.app_context():
        task = db.session.get(LabellingTask, desk["single"])
        assert queue.next_run(task, user("sam"), after=RUNS[0]) == RUNS[1]
        assert queue.next_run(task, user("sam"), after=RUNS[2]) == RUNS[0]
        for run in RUNS:
            certify(desk["single"], "sue", run)
        assert queue.next_run(task, user("sam"), after=RUNS[0]) is None


def test_a_run_sent_back_comes_first_and_is_listed_as_returned(app, desk):
    with app.app_context():
        rejected = certify(desk["single"], "sam", RUNS[2])
        certify(desk["single"], "sam", RUNS[1])
        task = db.session.get(LabellingTask, desk["single"])
        assert queue.returned(task, user("sam")) == []
        workflow.review(db.session.get(Certification, rejected), user("lea"), "reject", "look again")
        assert [c.run_number for c in queue.returned(task, user("sam"))] == [RUNS[2]]
        assert queue.returned(task, user("sue")) == []
        assert queue.next_run(task, user("sam")) == RUNS[2]
        assert queue.next_run(task, user("sam"), after=RUNS[2]) == RUNS[0]  # after certifying: the next open run


def test_progress_is_the_same_on_the_task_page_the_api_and_the_home_page(app, client, auth, desk):
    with app.app_context():
        for name in ("sam", "sue"):
            certify(desk["double"], name, RUNS[0])
        approved = certify(desk["double"], "sam", RUNS[1])
        rejected = certify(desk["single"], "sam", RUNS[0])
        workflow.review(db.session.get(Certification, approved), user("lea"), "approve")
        workflow.review(db.session.get(Certification, rejected), user("lea"), "reject", "again")
        progress = queries.task_progress(db.session.execute(db.select(LabellingTask)).scalars().all())
        token = make_token(user("lea"))
    assert progress[desk["double"]].as_json() == {"runs": 3, "certified": 3, "pending": 2, "approved": 1, "rejected": 0}
    assert (progress[desk["double"]].runs_certified, progress[desk["double"]].runs_approved) == (2, 1)
    assert progress[desk["single"]].as_json() == {"runs": 3, "certified": 1, "pending": 0, "approved": 0, "rejected": 1}

    api = {t["id"]: t["progress"] for t in client.get("/api/v1/tasks", headers=bearer(token)).get_json()["tasks"]}
    assert api == {task_id: p.as_json() for task_id, p in progress.items()}

    auth.login("lea", PASSWORD)
    page = client.get("/tasks").get_data(as_text=True)
    for task_id, p in progress.items():
        row = re.search(rf'/tasks/{task_id}".*?</tr>', page, re.S).group(0)
        cells = [int(n) for n in re.findall(r'<td class="text-end">(\d+)</td>', row)]
        assert cells == [p.runs, p.certified, p.approved, p.pending, p.rejected]
    home = client.get("/").get_data(as_text=True)
    assert "2/3 runs, 1 approved" in home and "1/3 runs, 0 approved" in home


def test_progress_of_a_task_without_certifications_counts_its_runs(app, desk):
    with app.app_context():
        task = db.session.get(LabellingTask, desk["single"])
        assert queries.task_progress([task])[task.id].as_json() == {
            "runs": 3,
            "certified": 0,
            "pending": 0,
            "approved": 0,
            "rejected": 0,
        }
        assert queries.task_progress([]) == {}


def test_certify_next_run_follows_the_tasks_order_as_the_apis_next_does(app):
    with app.app_context():
        shifter = make_user("ursula", Role.SHIFTER)
        task = make_task({1: range(1, 4), 2: range(1, 4), 3: range(1, 4)}, order=QueueOrder.UNCERTAINTY)
        # run 3's scores sit at the threshold, run 2's near it, run 1's far from it: uncertainty offers 3, 2, 1
        add_source(
            task,
            {
                1: dict.fromkeys(range(1, 4), 0.0),
                2: dict.fromkeys(range(1, 4), 0.4),
                3: dict.fromkeys(range(1, 4), 0.5),
            },
        )
        assert queue.next_run(task, shifter) == 3 == queue_order.next_run(task, shifter.id)
        task.order = QueueOrder.RUN
        assert queue.next_run(task, shifter) == 1
        assert queue.next_run(task, shifter, after=1) == 2
