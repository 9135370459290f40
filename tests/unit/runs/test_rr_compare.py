"""A run's certification beside the Run Registry's flags: which lumisections disagree, under every status, over
partial overlaps, and the run's verdict; read from the database for one run and for a whole task."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import BadRange, ReviewState, Role, RrRange
from app.services.certification import queries
from app.services.runs.rr_compare import (
    AGREES,
    DIFFERS,
    NOT_IN_RR,
    BadSpan,
    Certified,
    Span,
    compare,
    pieces,
    run_comparison,
    task_verdicts,
)
from app.services.runs.run_registry import STATUSES, Range
from tests.helpers import make_user
from tests.unit.suggestions.tasks import certify, make_task

ALL = frozenset({"pixel", "strip", "tracking"})
GOOD_RUN = {"pixel": "good", "strip": "good", "tracking": "good"}

# Run 378856 as tests/fixtures/rr records it.
RR = {
    "tracker-pixel": [Range(1, 120, "GOOD", "", ""), Range(121, 140, "BAD", "", "HV"), Range(141, 163, "GOOD", "", "")],
    "tracker-strip": [Range(1, 10, "STANDBY", "", ""), Range(11, 163, "GOOD", "", "")],
    "tracker-track": [Range(1, 163, "GOOD", "", "")],
}


def spans(comparison, component):
    return next(c for c in comparison.components if c.component == component).spans


def test_partial_overlaps_are_cut_where_either_side_changes():
    """Pixel bad 125-150 here, BAD 121-140 in RR: 121-124 and 141-150 disagree, 125-140 agrees."""
    certified = Certified(GOOD_RUN | {"strip": "bad"}, [BadSpan(125, 150, frozenset({"pixel"}), "FED errors")])
    comparison = compare(378856, "online", RR, [certified], 163)
    assert spans(comparison, "tracker-pixel") == [
        Span(1, 120, "good", "GOOD"),
        Span(121, 124, "good", "BAD"),
        Span(125, 140, "bad", "BAD"),
        Span(141, 150, "bad", "GOOD"),
        Span(151, 163, "good", "GOOD"),
    ]
    pixel = comparison.components[0]
    assert [(s.first, s.last) for s in pixel.disagreements] == [(121, 124), (141, 150)]
    assert pixel.platform == [(1, 124, "good"), (125, 150, "bad"), (151, 163, "good")]
    assert pixel.disagrees_within(121, 140) and not pixel.disagrees_within(1, 120)
    # strip bad for the whole run: RR's STANDBY 1-10 is shown, not counted; 11-163 GOOD disagrees
    assert [(s.first, s.last, s.disagrees) for s in spans(comparison, "tracker-strip")] == [
        (1, 10, False),
        (11, 163, True),
    ]
    assert comparison.verdict == DIFFERS


DISAGREE = {("good", "BAD"), ("bad", "GOOD")}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("verdict", ["good", "bad", "excluded"])
def test_only_good_against_bad_disagrees_under_every_status(status, verdict):
    rr = {"tracker-track": [Range(1, 50, status, "", "")]}
    comparison = compare(1, "online", rr, [Certified(GOOD_RUN | {"tracking": verdict})], 50)
    assert spans(comparison, "tracker-track") == [Span(1, 50, verdict, status)]
    expected = (verdict, status) in DISAGREE
    assert comparison.verdict == (DIFFERS if expected else AGREES)


def test_a_run_not_in_rr_and_a_run_not_certified():
    not_in_rr = compare(2, None, {}, [Certified(GOOD_RUN)], 40)
    assert not_in_rr.verdict == NOT_IN_RR and not_in_rr.dataset_name is None
    assert all(c.spans == [] and c.platform == [(1, 40, "good")] for c in not_in_rr.components)

    uncertified = compare(378856, "online", RR, [], 163)
    assert uncertified.verdict is None  # RR has it, nothing here to compare it with
    assert spans(uncertified, "tracker-pixel")[1] == Span(121, 140, None, "BAD")
    assert not any(c.disagreements for c in uncertified.components)


def test_lumisections_rr_does_not_list_are_not_compared():
    rr = {"tracker-pixel": [Range(20, 30, "GOOD", "", "")]}  # nothing on 1-19 and 31-40
    certified = Certified(GOOD_RUN, [BadSpan(1, 25, ALL, "")])
    comparison = compare(3, "online", rr, [certified], 40)
    assert spans(comparison, "tracker-pixel") == [Span(20, 25, "bad", "GOOD"), Span(26, 30, "good", "GOOD")]
    assert comparison.verdict == DIFFERS
    assert spans(comparison, "tracker-strip") == []  # RR lists no strip flag: nothing to disagree with


def test_a_matching_certification_agrees():
    certified = Certified(GOOD_RUN, [BadSpan(121, 140, frozenset({"pixel"}), "HV trip")])
    assert compare(378856, "online", RR, [certified], 163).verdict == AGREES


def test_several_certifications_are_bad_where_one_says_so():
    one = Certified(GOOD_RUN, [BadSpan(121, 130, frozenset({"pixel"}))])
    other = Certified(GOOD_RUN, [BadSpan(131, 140, frozenset({"pixel"}))])
    assert compare(378856, "online", RR, [one, other], 163).verdict == AGREES
    assert compare(378856, "online", RR, [one], 163).verdict == DIFFERS
    excluded = Certified(GOOD_RUN | {"pixel": "excluded"})
    combined = compare(378856, "online", RR, [excluded, one], 163)
    assert spans(combined, "tracker-pixel")[1] == Span(121, 130, "bad", "BAD")  # bad wins over excluded
    assert spans(combined, "tracker-pixel")[0] == Span(1, 120, "excluded", "GOOD")


def test_pieces_merge_equal_neighbours():
    assert pieces(1, 10, [3, 5, 5, 11, 0], lambda n: n >= 5) == [(1, 4, False), (5, 10, True)]
    assert pieces(4, 4, [], str) == [(4, 4, "4")]


def _rr_rows(run: int, dataset: str, component: str, *ranges: tuple[int, int, str]) -> None:
    db.session.add_all(
        RrRange(run_number=run, dataset_name=dataset, component=component, first=a, last=b, status=s)
        for a, b, s in ranges
    )
    db.session.commit()


@pytest.mark.databases("sqlite", "postgresql")
def test_the_run_is_compared_with_online_and_its_approved_certification(app):
    with app.app_context():
        task = make_task({378856: range(1, 164)})
        sam, sue = make_user("sam", Role.SHIFTER), make_user("sue", Role.SHIFTER)
        pending = certify(task, 378856, sam)
        _rr_rows(378856, "/PromptReco/Collisions2024/DQM", "tracker-pixel", (1, 163, "BAD"))
        _rr_rows(378856, "online", "tracker-pixel", (1, 120, "GOOD"), (121, 163, "BAD"))
        first = run_comparison(378856, 163, [pending])
        assert first.dataset_name == "online" and first.verdict == DIFFERS  # the pending one, good everywhere

        approved = certify(task, 378856, sue, copy=2, review_state=ReviewState.APPROVED)
        approved.bad_ranges = [BadRange(first=121, last=163, components=["pixel"], comment="")]
        db.session.commit()
        assert run_comparison(378856, 163, [pending, approved]).verdict == AGREES
        assert run_comparison(378856, 163, []).verdict is None


@pytest.mark.databases("sqlite", "postgresql")
def test_task_verdicts_take_one_query_however_many_runs(app):
    with app.app_context():
        runs = {run: range(1, 11) for run in range(100, 140)}
        task = make_task(runs)
        sam = make_user("sam", Role.SHIFTER)
        for run in runs:
            certify(task, run, sam)
        for run in list(runs)[:30]:
            _rr_rows(run, "online", "tracker-strip", (1, 10, "BAD" if run % 2 else "GOOD"))
        lasts = dict.fromkeys(runs, 10)
        certifications = queries.certifications_by_run(task)  # as the task page reads them
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            verdicts = task_verdicts(task.id, certifications, lasts)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1
        assert verdicts[100] == AGREES and verdicts[101] == DIFFERS and verdicts[130] == NOT_IN_RR
        assert list(verdicts.values()).count(NOT_IN_RR) == 10
