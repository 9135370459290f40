"""What the demo's two blind shifters file, the careful one and the quick one, without seeding the demo."""

from __future__ import annotations

from demo import blind
from demo.tracker_histograms import ZPHI, Anomaly, AnomalyBlock

CHECKLISTS = ["general", "pixel", "strip", "tracking"]


def run(number: int = 1, ls_count: int = 200, stable_beam: bool = True) -> dict:
    return {"run_number": number, "ls_count": ls_count, "stable_beam": stable_beam}


def block(first: int, last: int, kind: Anomaly = Anomaly.DEAD_REGION) -> AnomalyBlock:
    return AnomalyBlock(1, first, last, kind, (ZPHI,))


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
