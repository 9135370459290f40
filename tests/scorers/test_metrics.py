"""Every metric equals scikit-learn's on the same arrays, with and without weights, with ties."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

import scorers
from scorers.solution import Solution


def reference(name: str, y, p, w):
    """scikit-learn's value of the metric."""
    labels = (p >= 0.5).astype(float)

    def roc():
        return skm.roc_curve(y, p, sample_weight=w, drop_intermediate=False)[:2]

    return {
        "roc_auc": lambda: skm.roc_auc_score(y, p, sample_weight=w),
        "average_precision": lambda: skm.average_precision_score(y, p, sample_weight=w),
        "tpr_at_fpr": lambda: (lambda fpr, tpr: tpr[fpr <= 0.01].max())(*roc()),
        "fpr_at_tpr": lambda: (lambda fpr, tpr: fpr[tpr >= 0.9].min())(*roc()),
        "log_loss": lambda: skm.log_loss(y, p, sample_weight=w, labels=[0, 1]),
        "accuracy": lambda: skm.accuracy_score(y, labels, sample_weight=w),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, labels, sample_weight=w),
        "f1": lambda: skm.f1_score(y, labels, sample_weight=w, zero_division=0.0),
        "mcc": lambda: skm.matthews_corrcoef(y, labels, sample_weight=w),
        "rmse": lambda: np.sqrt(skm.mean_squared_error(y, p, sample_weight=w)),
        "mae": lambda: skm.mean_absolute_error(y, p, sample_weight=w),
        "r2": lambda: skm.r2_score(y, p, sample_weight=w),
    }[name]()


def solution_of(y, w=None) -> Solution:
    """A solution whose rows are all public."""
    n = len(y)
    return Solution(pa.array(np.arange(n)), np.asarray(y, float), w, np.ones(n, bool), np.zeros(n, bool), "id", "label")


@pytest.mark.parametrize("name", sorted(scorers.REGISTRY))
@pytest.mark.parametrize("weighted", [False, True])
def test_metric_matches_scikit_learn_with_ties(name, weighted):
    rng = np.random.default_rng(5)
    n = 2000
    y = (rng.random(n) < 0.2).astype(float)
    p = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1).round(2)  # rounding makes many ties
    w = rng.random(n) * 3 if weighted else None
    result = scorers.get(name).score(solution_of(y, w), p)
    assert result.public == pytest.approx(reference(name, y, p, w), rel=1e-9, abs=1e-12)
    assert result.private is None and result.n_public == n and result.n_private == 0


binary_cases = st.integers(min_value=4, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n).filter(lambda y: 0 < sum(y) < len(y)),
        st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0]), min_size=n, max_size=n),
        st.lists(st.floats(min_value=0.01, max_value=10), min_size=n, max_size=n),
        st.booleans(),
    )
)


@settings(max_examples=60, deadline=None)
@given(binary_cases)
def test_ranking_and_threshold_metrics_match_on_generated_inputs(case):
    y, p, w, weighted = (np.array(case[0]), np.array(case[1]), np.array(case[2]), case[3])
    weight = w if weighted else None
    for name in ("roc_auc", "average_precision", "tpr_at_fpr", "fpr_at_tpr", "log_loss", "accuracy", "mcc", "f1"):
        ours = scorers.get(name).score(solution_of(y, weight), p).public
        assert ours == pytest.approx(reference(name, y, p, weight), rel=1e-9, abs=1e-12), name


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-100, 100), st.floats(-100, 100), st.floats(0.1, 5)), min_size=3, max_size=50))
def test_regression_metrics_match_on_generated_inputs(rows):
    y, p, w = (np.array(column) for column in zip(*rows, strict=True))
    if np.ptp(y) == 0:
        return  # r2 is undefined for a constant target
    for name in ("rmse", "mae", "r2"):
        for weight in (None, w):
            ours = scorers.get(name).score(solution_of(y, weight), p).public
            assert ours == pytest.approx(reference(name, y, p, weight), rel=1e-9, abs=1e-12), name


def test_parameters_change_the_operating_point():
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.3).astype(float)
    p = y * 0.5 + rng.random(500)
    strict, loose = scorers.get("tpr_at_fpr", fpr=0.01), scorers.get("tpr_at_fpr", fpr=0.2)
    assert strict.score(solution_of(y), p).public <= loose.score(solution_of(y), p).public


def test_unknown_metric_and_parameter_are_named():
    with pytest.raises(KeyError, match="unknown metric 'auroc'; known metrics: accuracy"):
        scorers.get("auroc")
    with pytest.raises(ValueError, match="roc_auc takes no parameter fpr"):
        scorers.get("roc_auc", fpr=0.1)


def test_ranking_details_give_downsampled_curves():
    rng = np.random.default_rng(2)
    y = (rng.random(100_000) < 0.1).astype(float)
    details = scorers.get("roc_auc").score(solution_of(y), rng.random(100_000)).details["public"]
    assert len(details["roc"]["fpr"]) <= 200 and details["roc"]["fpr"][0] == 0 and details["roc"]["tpr"][-1] == 1
    assert len(details["pr"]["recall"]) <= 200


def test_threshold_details_give_a_confusion_matrix():
    y = np.array([0, 0, 1, 1.0])
    details = scorers.get("accuracy").score(solution_of(y), np.array([0.1, 0.7, 0.8, 0.2])).details["public"]
    assert details["confusion"] == {"labels": [0, 1], "matrix": [[1, 1], [1, 1]]}
