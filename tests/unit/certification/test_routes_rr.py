"""The Run Registry on the certification pages: the run's RR flags beside its certification with the
disagreements marked, and the task page's RR column, read in a number of queries that does not grow with runs."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import BadRange, ReviewState, Role, RrRange, User
from tests.helpers import PASSWORD, make_user
from tests.unit.suggestions.tasks import certify, make_task

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def flags(run: int, component: str, *ranges: tuple[int, int, str], dataset: str = "online") -> None:
    db.session.add_all(
        RrRange(run_number=run, dataset_name=dataset, component=component, first=a, last=b, status=s, cause="HV")
        for a, b, s in ranges
    )
    db.session.commit()


@pytest.fixture
def task_id(app):
    """Runs 378856 (pixel BAD 121-140 in RR, certified bad 125-150 here, approved), 378960 (agrees),
    378981 (not in RR) and 378985 (in RR, not certified)."""
    with app.app_context():
        task = make_task({378856: range(1, 164), 378960: range(1, 59), 378981: range(1, 21), 378985: range(1, 11)})
        sam = make_user("sam", Role.SHIFTER)
        flags(378856, "tracker-pixel", (1, 120, "GOOD"), (121, 140, "BAD"), (141, 163, "GOOD"))
        flags(378856, "tracker-strip", (1, 10, "STANDBY"), (11, 163, "GOOD"))
        flags(378960, "tracker-strip", (1, 30, "NOTSET"), (31, 58, "GOOD"))
        flags(378985, "tracker-track", (1, 10, "GOOD"))
        differs = certify(task, 378856, sam, review_state=ReviewState.APPROVED, comment="pixel")
        differs.bad_ranges = [BadRange(first=125, last=150, components=["pixel"], comment="FED errors")]
        certify(task, 378960, sam)
        certify(task, 378981, sam)
        db.session.commit()
        return task.id


def test_the_certification_page_marks_where_rr_disagrees(client, auth, task_id):
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/378856").get_data(as_text=True)
    assert re.search(r'data-testid="rr-verdict">differs<', page) and "dataset online" in page
    marks = re.findall(r'data-testid="rr-disagreement">([^<]+)<', page)
    assert marks == ["121-124: good here, BAD in RR", "141-150: bad here, GOOD in RR"]
    assert "121-140 BAD" in page and "1-10 STANDBY" in page  # RR's ranges shown, STANDBY not counted
    assert "125-150 bad" in page  # this platform's ranges beside them
    assert "Compared with the approved certification" in page


def test_the_certification_page_of_a_run_not_in_rr_says_so(client, auth, task_id):
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/378981").get_data(as_text=True)
    assert re.search(r'data-testid="rr-verdict">not in RR<', page)
    assert "flask runs import --from-rr 378981" in page and "rr-disagreement" not in page


def test_the_task_page_has_an_rr_column(client, auth, task_id):
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<th" in page and ">RR</th>" in page
    assert re.findall(r'data-testid="rr-verdict">([^<]+)<', page) == ["differs", "agrees", "not in RR", "—"]


def test_the_task_page_reads_as_many_statements_for_twice_the_runs(app, client, auth):
    def statements_for(runs: int) -> int:
        with app.app_context():
            numbers = range(500_000 + 1000 * runs, 500_000 + 1000 * runs + runs)
            task = make_task({run: range(1, 11) for run in numbers})
            sam = db.session.execute(db.select(User).where(User.username == "sam")).scalar_one()
            for run in numbers:
                flags(run, "tracker-pixel", (1, 10, "GOOD"))
                certify(task, run, sam).bad_ranges = [BadRange(first=2, last=3, components=["pixel"])]
            db.session.commit()
            task_id, engine = task.id, db.engine
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert page.count('data-testid="rr-verdict">differs<') == runs
        return len(seen)

    with app.app_context():
        make_user("sam", Role.SHIFTER)
    auth.login("sam", PASSWORD)
    assert statements_for(10) == statements_for(20)
