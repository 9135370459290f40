"""Suggested bad ranges from scores and a threshold, and the origin a certification's bad range keeps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models import RangeOrigin
from app.services.suggestions.ranges import range_origin, suggested_ranges

scored_lumisections = st.dictionaries(
    st.integers(min_value=1, max_value=300), st.floats(min_value=0, max_value=1), max_size=200
)


@settings(max_examples=300, deadline=None)
@given(scored=scored_lumisections, threshold=st.floats(min_value=0, max_value=1))
def test_suggested_ranges_are_sorted_disjoint_maximal_and_cover_exactly_the_lumisections_at_or_above(scored, threshold):
    numbers = list(scored)  # in whatever order the dictionary holds them
    ranges = suggested_ranges(numbers, [scored[n] for n in numbers], threshold)

    bad = {n for n, score in scored.items() if score >= threshold}
    covered = [n for first, last in ranges for n in range(first, last + 1)]
    assert sorted(covered) == sorted(bad)  # every number in a range is a scored, bad lumisection; nothing else
    assert len(covered) == len(set(covered))  # disjoint
    assert ranges == sorted(ranges) and all(first <= last for first, last in ranges)
    for first, last in ranges:  # maximal: neither neighbour could extend the range
        assert first - 1 not in bad and last + 1 not in bad


def test_a_missing_lumisection_breaks_a_run_and_the_threshold_counts_as_bad():
    numbers = [1, 2, 3, 5, 6, 7, 8, 9]
    scores = [0.9, 0.5, 0.2, 0.7, 0.8, float("nan"), 0.6, 0.6]
    assert suggested_ranges(numbers, scores, 0.5) == [(1, 2), (5, 6), (8, 9)]
    assert suggested_ranges([4, 5], [0.7, 0.7], 0.5) == [(4, 5)]
    assert suggested_ranges([4, 6], [0.7, 0.7], 0.5) == [(4, 4), (6, 6)]  # 5 was not scored
    assert suggested_ranges([], [], 0.5) == []


def test_a_lumisection_scored_twice_is_an_error():
    with pytest.raises(ValueError, match="more than once"):
        suggested_ranges([3, 1, 3], [0.9, 0.9, 0.1], 0.5)


SUGGESTED = [(10, 20), (40, 45)]


@pytest.mark.parametrize(
    ("first", "last", "claimed", "source_ranges", "origin"),
    [
        (10, 20, "suggested", SUGGESTED, RangeOrigin.SUGGESTED),  # accepted as it was
        (40, 45, "suggested_edited", SUGGESTED, RangeOrigin.SUGGESTED),  # ends unchanged after all
        (12, 20, "suggested", SUGGESTED, RangeOrigin.SUGGESTED_EDITED),  # first moved
        (5, 25, "suggested", SUGGESTED, RangeOrigin.SUGGESTED_EDITED),  # widened
        (44, 50, "suggested_edited", SUGGESTED, RangeOrigin.SUGGESTED_EDITED),
        (30, 35, "suggested", SUGGESTED, RangeOrigin.MANUAL),  # overlaps no suggested range of its source
        (10, 20, "manual", SUGGESTED, RangeOrigin.MANUAL),  # typed by hand: the shifter's own finding
        (10, 20, None, SUGGESTED, RangeOrigin.MANUAL),
        (10, 20, "suggested", None, RangeOrigin.MANUAL),  # no source
        (10, 20, "suggested", [], RangeOrigin.MANUAL),  # the source suggested nothing on the run
    ],
)
def test_a_ranges_origin_follows_its_ends_against_its_sources_suggested_ranges(
    first, last, claimed, source_ranges, origin
):
    assert range_origin(first, last, claimed, source_ranges) is origin


def test_an_unknown_claimed_origin_is_an_error():
    with pytest.raises(ValueError):
        range_origin(1, 2, "guessed", SUGGESTED)
