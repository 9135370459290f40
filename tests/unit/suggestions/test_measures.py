"""Live measures of sources against scikit-learn, and how shifters use suggestions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score, roc_curve

from app.models import RangeOrigin
from app.services.suggestions.measures import (
    CertifiedBadRange,
    CertifiedRun,
    agreement,
    labels_sha256,
    live_measures,
    metric_score,
    outcomes,
    roc_auc,
    shifter_measures,
    tpr_at_fpr,
)
from app.services.suggestions.ordering import SourceRun


def lumisections(seed: int, n: int = 5_000, ties: bool = False):
    """Labels (about 10% bad), scores that separate them imperfectly, and luminosity-like weights."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.1).astype(int)
    scores = np.clip(0.3 + 0.35 * labels + rng.normal(0, 0.2, n), 0, 1)
    if ties:
        scores = np.round(scores, 2)
    weights = rng.gamma(2.0, 0.5, n)
    weights[rng.random(n) < 0.02] = 0.0  # lumisections without recorded luminosity
    return labels, scores, weights


def sklearn_tpr_at_fpr(labels, scores, fpr, weights=None) -> float:
    """The documented definition: the best TPR among the curve's points, all kept, with FPR at most fpr."""
    false_pos, true_pos, _ = roc_curve(labels, scores, sample_weight=weights, drop_intermediate=False)
    return float(np.max(true_pos[false_pos <= fpr]))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [False, True])
def test_live_roc_auc_and_tpr_at_fpr_equal_scikit_learns_with_and_without_weights(seed, ties):
    labels, scores, weights = lumisections(seed, ties=ties)
    for w in (None, weights):
        assert roc_auc(labels, scores, w) == pytest.approx(roc_auc_score(labels, scores, sample_weight=w), abs=1e-12)
        for fpr in (0.01, 0.05):
            assert tpr_at_fpr(labels, scores, fpr, w) == pytest.approx(
                sklearn_tpr_at_fpr(labels, scores, fpr, w), abs=1e-12
            )


@pytest.mark.parametrize("seed", range(3))
def test_the_competition_metric_with_weights_equals_scikit_learns(seed):
    labels, scores, weights = lumisections(seed)
    assert metric_score("roc_auc", labels, scores, weights) == pytest.approx(
        roc_auc_score(labels, scores, sample_weight=weights), abs=1e-12
    )
    assert metric_score("average_precision", labels, scores, weights) == pytest.approx(
        average_precision_score(labels, scores, sample_weight=weights), abs=1e-12
    )
    assert metric_score("log_loss", labels, scores, weights) == pytest.approx(
        log_loss(labels, scores, sample_weight=weights), abs=1e-12
    )


def test_live_measures_name_what_produced_them_and_need_both_classes():
    labels, scores, weights = lumisections(5, n=400)
    runs = np.repeat(np.arange(1000, 1004), 100)
    numbers = np.tile(np.arange(1, 101), 4)
    measures = live_measures(runs, numbers, labels, scores, weights=weights, metric="average_precision")
    assert (measures.runs, measures.lumisections, measures.fpr) == (4, 400, 0.01)
    assert measures.score == pytest.approx(average_precision_score(labels, scores, sample_weight=weights))
    assert measures.scorer_version.startswith("average_precision:")
    # The same labels in another row order give the same snapshot digest; another label gives another.
    shuffled = np.random.default_rng(0).permutation(400)
    assert measures.labels_sha256 == labels_sha256(
        runs[shuffled], numbers[shuffled], labels[shuffled], weights[shuffled]
    )
    flipped = labels.copy()
    flipped[0] = 1 - flipped[0]
    assert labels_sha256(runs, numbers, flipped, weights) != measures.labels_sha256

    all_good = live_measures(runs, numbers, np.zeros(400), scores, metric="roc_auc")
    assert (all_good.roc_auc, all_good.tpr_at_fpr, all_good.score) == (None, None, None)


def test_agreement_counts_source_lumisection_pairs_on_which_both_call_it_bad_or_both_good():
    a = SourceRun(np.arange(1, 11), np.array([0.9] * 3 + [0.1] * 7), 0.5)  # bad 1-3
    b = SourceRun(np.arange(1, 11), np.array([0.1] * 10), 0.5)  # all good
    # The shifter marks 2-4 bad: with A they disagree on 1 and 4, with B on 2, 3 and 4.
    assert agreement([a, b], [(2, 4)], run_bad=False) == pytest.approx((8 + 7) / 20)
    # A component bad for the whole run makes every lumisection bad for the shifter.
    assert agreement([a, b], [], run_bad=True) == pytest.approx(3 / 20)
    assert agreement([], [(2, 4)], run_bad=False) is None


def run(certifier, suggested, ranges, blind=False, agreement=None, number=1):
    return CertifiedRun(certifier, number, blind, suggested, ranges, agreement)


def test_each_suggested_range_is_accepted_unchanged_edited_or_ignored():
    certified = run(
        1,
        {7: [(10, 20), (30, 35), (50, 60)], 8: [(10, 20)]},
        [
            CertifiedBadRange(10, 20, RangeOrigin.SUGGESTED, 7),
            CertifiedBadRange(28, 35, RangeOrigin.SUGGESTED_EDITED, 7),
            CertifiedBadRange(50, 60, RangeOrigin.MANUAL),  # found by hand: the suggestion was not taken
        ],
    )
    # Source 8's (10, 20) was shown too, but the range accepted came from source 7.
    assert outcomes(certified) == (1, 1, 2)


def rubber_stamper(runs: int, unchanged_share_runs: int, blind: float, other: float) -> list[CertifiedRun]:
    """runs certified with one suggestion each, unchanged_share_runs of them accepted unchanged, plus blind runs."""
    certified = []
    for i in range(runs):
        accepted = i < unchanged_share_runs
        ranges = [CertifiedBadRange(1, 5, RangeOrigin.SUGGESTED if accepted else RangeOrigin.MANUAL, 3)]
        certified.append(run(9, {3: [(1, 5)]}, ranges, agreement=other, number=i))
    certified += [run(9, {}, [], blind=True, agreement=blind, number=1000 + i) for i in range(5)]
    return certified


@pytest.mark.parametrize(
    ("runs", "accepted", "blind", "other", "flagged"),
    [
        (20, 19, 0.70, 0.98, True),  # 95% over 20 runs, agreeing less when blind
        (40, 40, 0.90, 0.99, True),
        (19, 19, 0.70, 0.98, False),  # too few runs to tell
        (20, 18, 0.70, 0.98, False),  # 90% unchanged: the shifter edits and ignores
        (20, 20, 0.99, 0.98, False),  # agrees as much blind: the models are simply right
        (20, 20, 0.98, 0.98, False),
    ],
)
def test_a_rubber_stamper_accepts_95_percent_unchanged_over_20_runs_and_agrees_less_when_blind(
    runs, accepted, blind, other, flagged
):
    measures = shifter_measures(rubber_stamper(runs, accepted, blind, other))[9]
    assert measures.runs_with_suggestions == runs and measures.unchanged == accepted
    assert measures.rubber_stamping is flagged


def test_without_blind_runs_nobody_is_flagged_and_blind_runs_do_not_count_as_acceptance():
    certified = [r for r in rubber_stamper(30, 30, 0.5, 0.99) if not r.blind]
    assert not shifter_measures(certified)[9].rubber_stamping
    blind_with_suggestions = run(4, {3: [(1, 5)]}, [], blind=True, agreement=0.5)
    measures = shifter_measures([blind_with_suggestions])[4]
    assert (measures.runs_with_suggestions, measures.suggested, measures.blind_agreement) == (0, 0, 0.5)
