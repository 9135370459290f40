"""What the demo's shifters file for a run, without seeding the demo."""

from __future__ import annotations

from demo import tracker
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
