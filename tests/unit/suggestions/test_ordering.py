"""Queue orders that follow the models, on hand-made tasks whose answers can be worked out on paper."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models import QueueOrder
from app.services.suggestions.ordering import (
    RunRankStats,
    SourceRun,
    disagreement,
    rank,
    run_stat,
    uncertainty,
)


def source(scores: list[float], threshold: float, first: int = 1) -> SourceRun:
    return SourceRun(np.arange(first, first + len(scores)), np.array(scores), threshold)


def test_uncertainty_is_one_minus_the_mean_distance_to_each_sources_threshold():
    # Source A (threshold 0.5): distances 0.4, 0.1, 0.0; source B (threshold 0.8): 0.0, 0.3.
    a, b = run_stat([0.9, 0.4, 0.5], 0.5), run_stat([0.8, 0.5], 0.8)
    assert (a.lumisections, a.bad_lumisections, b.bad_lumisections) == (3, 2, 1)
    assert uncertainty([a, b]) == pytest.approx(1 - (0.4 + 0.1 + 0.0 + 0.0 + 0.3) / 5)
    assert uncertainty([]) is None


def test_disagreement_is_the_share_of_shared_lumisections_with_split_verdicts():
    # Lumisections 1-4 scored by both; A says bad on 1, 2; B says bad on 2, 3: split on 1 and 3.
    # Lumisection 5 is scored by A alone and does not count.
    a = source([0.9, 0.9, 0.1, 0.1, 0.9], 0.5)
    b = source([0.2, 0.7, 0.7, 0.2], 0.6)
    assert disagreement([a, b]) == pytest.approx(2 / 4)
    assert disagreement([a]) is None
    assert disagreement([a, source([0.1], 0.5, first=10)]) is None  # nothing scored by both


def test_disagreement_needs_verdicts_apart_not_scores_apart():
    """Two sources far apart in score but on the same side of their thresholds agree."""
    assert disagreement([source([0.99, 0.01], 0.5), source([0.51, 0.49], 0.5)]) == 0.0


def hand_made_task() -> dict[int, RunRankStats]:
    """Five runs: uncertainty and disagreement with one tie each and a run no source scored."""
    return {
        101: RunRankStats(uncertainty=0.60, disagreement=0.10),
        102: RunRankStats(uncertainty=0.90, disagreement=0.50),
        103: RunRankStats(uncertainty=0.75, disagreement=0.50),
        104: RunRankStats(uncertainty=0.75, disagreement=0.00),
        105: RunRankStats(uncertainty=None, disagreement=None),
    }


def test_uncertainty_order_puts_scores_nearest_the_threshold_first_and_unscored_runs_last():
    ranked = rank(QueueOrder.UNCERTAINTY, hand_made_task(), random.Random(1))
    assert ranked[0] == 102 and set(ranked[1:3]) == {103, 104} and ranked[3:] == [101, 105]


def test_disagreement_order_puts_the_runs_sources_disagree_on_most_first():
    ranked = rank("disagreement", hand_made_task(), random.Random(1))
    assert set(ranked[:2]) == {102, 103} and ranked[2:] == [101, 104, 105]


def test_run_order_is_by_run_number():
    assert rank("run", hand_made_task(), random.Random(1)) == [101, 102, 103, 104, 105]


def test_ties_are_broken_at_random_but_the_same_way_for_the_same_seed():
    stats = hand_made_task()
    orders = {tuple(rank("uncertainty", stats, random.Random(seed))) for seed in range(20)}
    assert {order[1:3] for order in orders} == {(103, 104), (104, 103)}  # both ways over seeds
    assert rank("uncertainty", stats, random.Random(7)) == rank("uncertainty", stats, random.Random(7))


def brute_force_disagreement(sources: list[SourceRun]) -> float | None:
    """The definition, lumisection by lumisection."""
    votes: dict[int, list[bool]] = {}
    for s in sources:
        for number, score in zip(s.lumisections.tolist(), s.scores.tolist(), strict=True):
            votes.setdefault(number, []).append(score >= s.threshold)
    shared = [v for v in votes.values() if len(v) >= 2]
    return sum(any(v) and not all(v) for v in shared) / len(shared) if shared else None


scored_run = st.builds(
    lambda scored, threshold: SourceRun(
        np.array(sorted(scored), dtype=np.int64), np.array([scored[n] for n in sorted(scored)]), threshold
    ),
    st.dictionaries(st.integers(1, 60), st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0]), max_size=40),
    st.sampled_from([0.0, 0.5, 0.7, 1.0]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(scored_run, max_size=5))
def test_disagreement_matches_its_definition_on_sources_scoring_different_lumisections(sources):
    assert disagreement(sources) == brute_force_disagreement(sources)
