"""Which lumisection a selected one is compared with: the chosen reference run, else the task's latest reference
run of the run's class, else the nearest good lumisection of the run; the page says which and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Reco, ReferenceRun, Run, RunClass
from app.services.certification.references import (
    CHOSEN,
    LATEST,
    NEAREST_GOOD,
    Reference,
    nearest,
    nearest_good,
    reference_for,
)
from tests.unit.suggestions.tasks import make_task

RUN, CHOSEN_RUN, OLDER, NEWER, COSMICS = 7001, 6001, 6002, 6003, 6004
ME = "PixelPhase1_charge"


@pytest.fixture
def task(app):
    """A task of RUN (collisions, LS 1-40) with reference runs: CHOSEN_RUN, OLDER and NEWER of collisions,
    COSMICS of cosmics promoted last; each holding ME at LS 1-50, but OLDER only at 100-120."""
    with app.app_context():
        task = make_task({RUN: range(1, 41)})
        start = datetime(2026, 1, 1, tzinfo=UTC)
        promoted = [
            (CHOSEN_RUN, RunClass.COLLISIONS),
            (OLDER, RunClass.COLLISIONS),
            (NEWER, RunClass.COLLISIONS),
            (COSMICS, RunClass.COSMICS),
        ]
        for hours, (number, run_class) in enumerate(promoted):
            db.session.add(Run(run_number=number, run_class=run_class))
            db.session.flush()
            db.session.add(
                ReferenceRun(
                    run_number=number, reco=Reco.EXPRESS, run_class=run_class, created_at=start + timedelta(hours=hours)
                )
            )
        db.session.get(Run, RUN).run_class = RunClass.COLLISIONS
        db.session.commit()
        yield task


HOLDINGS = {
    (RUN, ME): list(range(1, 41)),
    (CHOSEN_RUN, ME): list(range(1, 51)),
    (OLDER, ME): list(range(100, 121)),
    (NEWER, ME): list(range(1, 51)),
    (COSMICS, ME): list(range(1, 51)),
}


def holdings(run_number: int, name: str) -> list[int]:
    return HOLDINGS.get((run_number, name), [])


def choose(task, lumisection=20, chosen=None, bad=(), name=ME, run=RUN, hold=holdings) -> Reference | None:
    return reference_for(
        task, db.session.get(Run, run), name, lumisection, chosen=chosen, bad_ranges=bad, holdings=hold
    )


def test_the_chosen_reference_run_at_the_same_lumisection(app, task):
    with app.app_context():
        reference = choose(task, chosen=CHOSEN_RUN)
        assert reference == Reference(CHOSEN_RUN, 20, CHOSEN)
        assert reference.describe(20) == f"reference run {CHOSEN_RUN} (chosen)"


def test_a_reference_run_without_the_lumisection_gives_the_nearest_it_holds(app, task):
    with app.app_context():
        reference = choose(task, chosen=OLDER, lumisection=20)
        assert (reference.run_number, reference.lumisection, reference.reason) == (OLDER, 100, CHOSEN)
        assert reference.describe(20) == f"reference run {OLDER} (chosen), LS 100: the nearest it holds"
        assert choose(task, chosen=OLDER, lumisection=130).lumisection == 120


def test_without_a_choice_the_latest_reference_run_of_the_runs_class(app, task):
    """COSMICS was promoted after NEWER but is of another class."""
    with app.app_context():
        reference = choose(task)
        assert reference == Reference(NEWER, 20, LATEST, "collisions")
        assert reference.describe(20) == f"reference run {NEWER} (task's latest collisions reference)"


@pytest.mark.parametrize(
    "chosen",
    [
        pytest.param(RUN, id="the run itself"),
        pytest.param(5999, id="not a reference run"),
    ],
)
def test_a_chosen_run_that_is_no_reference_run_falls_back_to_the_latest(app, task, chosen):
    with app.app_context():
        assert choose(task, chosen=chosen).run_number == NEWER


def test_a_chosen_run_without_the_monitoring_element_falls_back_to_the_latest(app, task):
    with app.app_context():
        reference = choose(
            task, chosen=CHOSEN_RUN, hold=lambda run, name: [] if run == CHOSEN_RUN else holdings(run, name)
        )
        assert (reference.run_number, reference.reason) == (NEWER, LATEST)


def test_reference_runs_of_another_reconstruction_do_not_count(app, task):
    with app.app_context():
        db.session.execute(db.update(ReferenceRun).values(reco=Reco.PROMPT))
        db.session.commit()
        assert choose(task, chosen=CHOSEN_RUN).reason == NEAREST_GOOD


def test_without_reference_runs_the_nearest_good_lumisection_of_the_run(app, task):
    """LS 20 is selected and 17-21 are bad: 22 (2 away) beats 16 (4 away)."""
    with app.app_context():
        db.session.execute(db.delete(ReferenceRun))
        db.session.commit()
        reference = choose(task, bad=[(17, 21), (30, 31)])
        assert reference == Reference(RUN, 22, NEAREST_GOOD)
        assert reference.describe(20) == "LS 22 of this run (nearest good)"
        assert choose(task, bad=[]).lumisection == 19  # its neighbours tie: the earlier one
        assert choose(task, bad=[(1, 40)]) is None


def test_when_the_reference_runs_lack_the_element_the_run_itself_is_compared(app, task):
    with app.app_context():
        only_run = {(RUN, ME): list(range(1, 41))}
        reference = choose(task, chosen=CHOSEN_RUN, hold=lambda run, name: only_run.get((run, name), []))
        assert reference == Reference(RUN, 19, NEAREST_GOOD)


def test_nearest_and_nearest_good():
    assert nearest([], 5) is None
    assert nearest([3, 7], 5) == 3
    assert nearest([3, 6], 5) == 6
    assert nearest([3, 5, 6], 5) == 5
    assert nearest([10, 11], 1) == 10
    assert nearest([10, 11], 99) == 11
    assert nearest_good([4, 5, 6], 5, []) == 4
    assert nearest_good([4, 5, 6], 5, [(4, 4)]) == 6
    assert nearest_good([5], 5, []) is None
