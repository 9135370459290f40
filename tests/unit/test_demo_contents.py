"""What the demo's shifters file and when its researchers submit, without seeding the demo."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from demo import blind, tracker
from demo.competitions import schedule
from demo.tracker_histograms import ZPHI, Anomaly, AnomalyBlock

CHECKLISTS = ["general", "pixel", "strip", "tracking"]


def run(number: int = 1, ls_count: int = 200, stable_beam: bool = True) -> dict:
    return {"run_number": number, "ls_count": ls_count, "stable_beam": stable_beam}


def block(first: int, last: int, kind: Anomaly = Anomaly.DEAD_REGION) -> AnomalyBlock:
    return AnomalyBlock(1, first, last, kind, (ZPHI,))


def test_a_run_spoiled_in_many_lumisections_is_bad_as_a_whole_with_its_ranges():
    body = tracker.certification_body(run(ls_count=200), [block(10, 20), block(50, 60)], None, CHECKLISTS)
    assert (body["pixel"], body["strip"], body["tracking"]) == ("bad", "good", "good")
    assert [(r["first"], r["last"]) for r in body["bad_lumisections"]] == [(10, 20), (50, 60)]
    assert "bad for the whole run" in body["comment"]


def test_a_few_bad_lumisections_leave_the_run_good_and_a_short_run_has_low_statistics():
    long = tracker.certification_body(run(ls_count=200), [block(10, 12)], None, CHECKLISTS)
    assert (long["pixel"], long["pixel_lowstat"]) == ("good", False)
    short = tracker.certification_body(run(ls_count=60), [], None, CHECKLISTS)
    assert short["pixel"] == "good" and short["pixel_lowstat"] and short["strip_lowstat"] and short["tracking_lowstat"]


def test_the_blind_shifters_disagree_on_what_the_quick_one_overlooks_or_overcalls():
    blocks = [block(5, 6), block(40, 47), block(90, 91, Anomaly.HOT_SPOTS)]
    careful = blind.careful_body(run(), blocks, CHECKLISTS)
    quick = blind.quick_body(run(), blocks, CHECKLISTS, cosmics_seen=0)
    assert len(careful["bad_lumisections"]) == 3 and len(quick["bad_lumisections"]) == 1  # short ones overlooked
    assert (careful["pixel"], quick["pixel"]) == ("good", "bad")  # three problems: the whole run, says the quick one


def test_in_a_cosmics_run_the_pixel_is_excluded_and_low_statistics_may_be_taken_for_bad_tracking():
    cosmics = run(ls_count=200, stable_beam=False)
    careful = blind.careful_body(cosmics, [], CHECKLISTS)
    quick = blind.quick_body(cosmics, [], CHECKLISTS, cosmics_seen=0)
    assert careful["pixel"] == quick["pixel"] == "excluded"
    assert (careful["tracking"], careful["tracking_lowstat"]) == ("good", True)
    assert quick["tracking"] == "bad" and quick["comment"]


def test_submissions_are_spread_over_the_days_and_each_day_stays_within_the_limit():
    start, end = datetime(2026, 11, 1, 15, tzinfo=UTC), datetime(2026, 11, 15, 12, tzinfo=UTC)
    authors = ["rita"] * 3 + ["ravi"] * 20 + ["mia"] * 2
    times = schedule(authors, start, end, daily_limit=2)
    assert all(start <= when < end for when in times)
    per_day = Counter((author, when.date()) for author, when in zip(authors, times, strict=True))
    assert max(per_day.values()) <= 2
    ravi = sorted(when for author, when in zip(authors, times, strict=True) if author == "ravi")
    assert (ravi[-1] - ravi[0]).days >= 10 and len(set(ravi)) == 20
    assert len({when.date() for when in times}) >= 10


def test_a_schedule_that_cannot_keep_the_daily_limit_is_refused():
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="a day"):
        schedule(["ravi"] * 5, start, end, daily_limit=2)
