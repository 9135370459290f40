"""The Run Registry edits a certification makes: only where RR's status differs and RR's flag is one a
certification sets; nothing when RR already matches; BAD always with a comment RR accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.services.errors import Refused
from app.services.runs.rr_compare import BadSpan, Certified
from app.services.runs.rr_push import BAD_COMMENT, check_write_allowed, planned_edits
from app.services.runs.run_registry import parse_ranges
from config import Config

ANSWERS = Path(__file__).resolve().parents[2] / "fixtures" / "rr"
GOOD_RUN = {"pixel": "good", "strip": "good", "tracking": "good"}


def recorded(run: int):
    return parse_ranges(json.loads((ANSWERS / f"{run}.json").read_text()), run)


def spans(edits):
    return [
        (e["component"], e["new_lumisection_range"]["start"], e["new_lumisection_range"]["end"],
         e["new_lumisection_range"]["status"])
        for e in edits
    ]  # fmt: skip


def test_a_certification_rr_already_matches_sends_nothing():
    certified = Certified(GOOD_RUN, [BadSpan(121, 140, frozenset({"pixel"}), "BPix HV trip")])
    assert planned_edits(378856, "online", [certified], recorded(378856), 163) == []


def test_an_edit_is_the_official_clients_body_for_the_span_that_differs():
    edits = planned_edits(378856, "online", [Certified(GOOD_RUN)], recorded(378856), 163)
    assert edits == [
        {
            "new_lumisection_range": {"start": 121, "end": 140, "status": "GOOD", "comment": "", "cause": ""},
            "run_number": 378856,
            "dataset_name": "online",
            "component": "tracker-pixel",
        }
    ]
    assert edits[0] == json.loads((ANSWERS / "edit_rr_lumisections.json").read_text())["request"]["body"]


def test_notset_empty_and_unlisted_lumisections_are_written_standby_and_excluded_are_left():
    """Run 378960: pixel EXCLUDED 1-58, strip NOTSET 1-30 then GOOD, tracking EMPTY 1-58; the run has 60."""
    certified = Certified(GOOD_RUN, [BadSpan(40, 45, frozenset({"tracking"}), "x")], "", "FED errors")
    edits = planned_edits(378960, "online", [certified], recorded(378960), 60)
    assert spans(edits) == [
        ("tracker-pixel", 59, 60, "GOOD"),  # RR lists nothing there
        ("tracker-strip", 1, 30, "GOOD"),
        ("tracker-strip", 59, 60, "GOOD"),
        ("tracker-track", 1, 39, "GOOD"),
        ("tracker-track", 40, 45, "BAD"),
        ("tracker-track", 46, 60, "GOOD"),
    ]
    bad = edits[4]["new_lumisection_range"]
    assert (bad["comment"], bad["cause"]) == (BAD_COMMENT, "FED errors")  # "x" is too short for RR


def test_a_bad_or_excluded_component_is_written_over_the_whole_run():
    certified = Certified(GOOD_RUN | {"strip": "bad", "tracking": "excluded"}, [], "strip off in TOB", "HV")
    edits = planned_edits(378856, "online", [certified], recorded(378856), 163)
    assert spans(edits) == [
        ("tracker-pixel", 121, 140, "GOOD"),
        ("tracker-strip", 11, 163, "BAD"),  # 1-10 stays STANDBY
        ("tracker-track", 1, 163, "EXCLUDED"),
    ]
    strip = edits[1]["new_lumisection_range"]
    assert (strip["comment"], strip["cause"]) == ("strip off in TOB", "HV")
    assert edits[2]["new_lumisection_range"]["comment"] == ""


def test_bad_ranges_keep_their_own_comments():
    certified = Certified(
        GOOD_RUN,
        [BadSpan(121, 130, frozenset({"pixel"}), "HV trip"), BadSpan(131, 140, frozenset({"pixel"}), "")],
        "two problems",
    )
    rr = recorded(378856) | {"tracker-pixel": []}
    edits = planned_edits(378856, "online", [certified], rr, 163)
    assert [(e["new_lumisection_range"]["start"], e["new_lumisection_range"]["comment"]) for e in edits] == [
        (1, ""),
        (121, "HV trip"),
        (131, "two problems"),
        (141, ""),
    ]


@pytest.mark.parametrize(("value", "allowed"), [("1", True), ("true", True), ("", False), ("0", False)])
def test_writing_needs_rr_write(value, allowed):
    config = vars(Config({"RR_WRITE": value}))
    if allowed:
        check_write_allowed(config)
    else:
        with pytest.raises(Refused, match="set RR_WRITE=1") as refused:
            check_write_allowed(config)
        assert refused.value.status == 403
