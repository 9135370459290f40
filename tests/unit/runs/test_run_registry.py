"""Reading the Run Registry's answers without a server: the recorded answers, every status, malformed ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.services.errors import Refused
from app.services.runs.run_registry import STATUSES, Range, RunRegistryClient, parse_ranges
from config import Config

ANSWERS = Path(__file__).resolve().parents[2] / "fixtures" / "rr"


def recorded(run: int) -> dict:
    return json.loads((ANSWERS / f"{run}.json").read_text())


def test_a_recorded_answer_becomes_the_tracker_components_ranges():
    ranges = parse_ranges(recorded(378856), 378856)
    assert list(ranges) == ["tracker-pixel", "tracker-strip", "tracker-track"]  # dt-dt is not the tracker's
    assert ranges["tracker-pixel"] == [
        Range(1, 120, "GOOD", "", ""),
        Range(121, 140, "BAD", "Hardware failure", "BPix layer 1 HV trip"),
        Range(141, 163, "GOOD", "", ""),
    ]
    assert ranges["tracker-strip"][0] == Range(1, 10, "STANDBY", "", "ramping up")


def test_the_recorded_answers_carry_every_status():
    statuses = {r.status for run in (378856, 378960) for rs in parse_ranges(recorded(run), run).values() for r in rs}
    assert statuses == set(STATUSES)


def test_ranges_come_in_lumisection_order_and_missing_components_have_none():
    answer = {
        "tracker-strip": [
            {"start": 11, "end": 20, "status": "BAD", "comment": None, "cause": None},
            {"start": 1, "end": 10, "status": "GOOD", "comment": "", "cause": ""},
        ]
    }
    ranges = parse_ranges(answer, 1)
    assert ranges == {"tracker-strip": [Range(1, 10, "GOOD", "", ""), Range(11, 20, "BAD", "", "")]}
    assert parse_ranges({}, 1) == {}


GOOD = {"start": 1, "end": 10, "status": "GOOD", "comment": "", "cause": ""}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("<html>", "not a JSON object of components"),
        ([], "not a JSON object of components"),
        ({"tracker-pixel": {"start": 1}}, "tracker-pixel is not a list of ranges"),
        ({"tracker-pixel": ["GOOD"]}, "tracker-pixel range 0 is not an object"),
        ({"tracker-pixel": [GOOD | {"start": "1"}]}, "range 0 has start '1', not a lumisection number"),
        ({"tracker-pixel": [GOOD | {"start": 0}]}, "range 0 has start 0, not a lumisection number"),
        ({"tracker-strip": [GOOD | {"end": None}]}, "tracker-strip range 0 has end None"),
        ({"tracker-track": [GOOD | {"end": True}]}, "has end True, not a lumisection number"),
        ({"tracker-pixel": [GOOD | {"start": 12}]}, "range 0 starts at 12 after its end 10"),
        ({"tracker-pixel": [GOOD | {"status": "good"}]}, "has status 'good', not one of GOOD, BAD"),
        ({"tracker-pixel": [GOOD | {"comment": 3}]}, "has a comment that is not text"),
        ({"tracker-pixel": [GOOD, GOOD | {"start": 10, "end": 12}]}, "ranges 1-10 and 10-12 overlap"),
    ],
)
def test_a_malformed_answer_is_refused_naming_the_run(answer, problem):
    with pytest.raises(Refused) as refused:
        parse_ranges(answer, 378856)
    assert refused.value.status == 502
    assert "the Run Registry's answer for run 378856 (online) is malformed" in str(refused.value)
    assert problem in str(refused.value)


def test_an_error_answer_is_refused_with_rr_s_words():
    with pytest.raises(Refused, match=r"the Run Registry refused run 5 \(online\): no such run"):
        parse_ranges({"err": "no such run"}, 5)


def test_configuration_defaults_to_no_run_registry():
    config = Config({})
    assert (config.RR_API_URL, config.RR_TOKEN, config.RR_VERIFY_TLS) == ("", None, True)
    with pytest.raises(Refused, match="RR_API_URL is not set") as refused:
        RunRegistryClient.from_config(vars(config))
    assert refused.value.status == 503
    client = RunRegistryClient.from_config(
        vars(Config({"RR_API_URL": "https://rr.example/api/", "RR_TOKEN": "t", "RR_VERIFY_TLS": "false"}))
    )
    assert client.base_url == "https://rr.example/api" and client.session.verify is False
    assert client.session.headers["Authorization"] == "Bearer t"
