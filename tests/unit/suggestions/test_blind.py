"""The blind audit: which runs are certified without suggestions."""

from __future__ import annotations

import pytest

from app.services.suggestions.blind import blind_runs, draw, is_blind

RUNS = range(300_000, 310_000)


def test_a_runs_draw_is_stable_for_a_seed_and_differs_between_seeds():
    assert [is_blind(42, run, 0.1) for run in RUNS] == [is_blind(42, run, 0.1) for run in RUNS]
    assert blind_runs(42, RUNS, 0.1) != blind_runs(43, RUNS, 0.1)


def test_a_runs_draw_does_not_depend_on_the_other_runs_of_the_task():
    """An open-ended task gains runs later: the runs it had keep their draw."""
    earlier = blind_runs(7, RUNS[:2_000], 0.1)
    later = blind_runs(7, RUNS, 0.1)
    assert later & set(RUNS[:2_000]) == earlier


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.5])
def test_the_share_of_blind_runs_is_near_the_asked_fraction(seed, fraction):
    """Deterministic seeds: 10,000 runs fall within two percentage points of the fraction (about 4 sigma at 0.5)."""
    share = len(blind_runs(seed, RUNS, fraction)) / len(RUNS)
    assert abs(share - fraction) < 0.02


def test_fraction_zero_blinds_nothing_and_one_blinds_everything():
    assert blind_runs(3, RUNS, 0.0) == set() and blind_runs(3, RUNS, 1.0) == set(RUNS)
    assert 0 <= draw(3, 300_000) < 1


def test_a_fraction_outside_zero_to_one_is_an_error():
    with pytest.raises(ValueError):
        is_blind(1, 300_000, 1.5)
