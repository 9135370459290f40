"""Each metric equals scikit-learn's on the same arrays to 1e-9 relative, with or without weights and ties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

import scorers
from tests.scorers.files import all_public

BINARY = ["roc_auc", "average_precision", "tpr_at_fpr", "fpr_at_tpr", "log_loss", "accuracy"]
BINARY += ["balanced_accuracy", "f1", "mcc"]
REGRESSION = ["rmse", "mae", "r2"]
# Relative agreement; values that are zero up to rounding (an mcc of 0, say) need an absolute floor.
CLOSE = {"rel": 1e-9, "abs": 1e-12}


def reference(name: str, y: np.ndarray, p: np.ndarray, w: np.ndarray | None, **params: float) -> float:
    """scikit-learn's value of the metric on the same arrays."""
    decided = (p >= params.get("threshold", 0.5)).astype(int)

    def tpr_at_fpr() -> float:
        fpr, tpr, _ = skm.roc_curve(y, p, sample_weight=w, drop_intermediate=False)
        return tpr[fpr <= params.get("fpr", 0.01)].max()

    def fpr_at_tpr() -> float:
        fpr, tpr, _ = skm.roc_curve(y, p, sample_weight=w, drop_intermediate=False)
        return fpr[tpr >= params.get("tpr", 0.9)].min()

    functions = {
        "roc_auc": lambda: skm.roc_auc_score(y, p, sample_weight=w),
        "average_precision": lambda: skm.average_precision_score(y, p, sample_weight=w),
        "tpr_at_fpr": tpr_at_fpr,
        "fpr_at_tpr": fpr_at_tpr,
        "log_loss": lambda: skm.log_loss(y, p, sample_weight=w, labels=[0, 1]),
        "accuracy": lambda: skm.accuracy_score(y, decided, sample_weight=w),
        "balanced_accuracy": lambda: skm.balanced_accuracy_score(y, decided, sample_weight=w),
        "f1": lambda: skm.f1_score(y, decided, sample_weight=w, zero_division=0.0),
        "mcc": lambda: skm.matthews_corrcoef(y, decided, sample_weight=w),
        "rmse": lambda: skm.root_mean_squared_error(y, p, sample_weight=w),
        "mae": lambda: skm.mean_absolute_error(y, p, sample_weight=w),
        "r2": lambda: skm.r2_score(y, p, sample_weight=w),
    }
    with warnings.catch_warnings():
        # scikit-learn warns when the decisions hold a class the targets do not; the value is still defined.
        warnings.simplefilter("ignore")
        return float(functions[name]())


def ours(name: str, y, p, w=None, **params: float) -> float:
    """The scorer's value with every row public."""
    return scorers.get(name, **params).score(all_public(y, w), np.asarray(p, dtype=float)).public


def test_every_registered_metric_is_checked_here():
    assert sorted(BINARY + REGRESSION) == sorted(scorers.REGISTRY)


@pytest.mark.parametrize("name", BINARY + REGRESSION)
@pytest.mark.parametrize("weighted", [False, True])
def test_metric_matches_scikit_learn_on_each_side_with_ties(name, weighted):
    rng = np.random.default_rng(5)
    n = 3000
    y = (rng.random(n) < 0.2).astype(float)
    p = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1).round(2)  # rounding makes many ties
    if name in REGRESSION:
        y = rng.normal(size=n).round(1)
        p = (y + rng.normal(size=n)).round(1)
    w = rng.random(n) * 3 if weighted else None
    usage = rng.choice(["Public", "Private", "Ignored"], size=n, p=[0.3, 0.6, 0.1])
    result = scorers.get(name).score(all_public(y, w, usage), p)
    for side, value in (("Public", result.public), ("Private", result.private)):
        rows = usage == side
        weight = None if w is None else w[rows]
        assert value == pytest.approx(reference(name, y[rows], p[rows], weight), **CLOSE)
    assert (result.n_public, result.n_private) == ((usage == "Public").sum(), (usage == "Private").sum())


@st.composite
def binary_cases(draw) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Targets of both classes, scores with or without many ties, and weights (some zero) or none."""
    n = draw(st.integers(min_value=2, max_value=80))
    y = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))
    assume(0 < y.sum() < n)
    tied = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    score = tied if draw(st.booleans()) else st.floats(min_value=0, max_value=1)
    p = np.array(draw(st.lists(score, min_size=n, max_size=n)))
    w = None
    if draw(st.booleans()):
        weight = st.sampled_from([0.0, 0.5, 1.0, 3.0]) | st.floats(min_value=0.01, max_value=10)
        w = np.array(draw(st.lists(weight, min_size=n, max_size=n)))
        assume(w[y == 1].sum() > 0 and w[y == 0].sum() > 0)
    return y, p, w


@settings(max_examples=60, deadline=None)
@given(binary_cases())
def test_binary_metrics_match_scikit_learn_on_generated_inputs(case):
    y, p, w = case
    solution = all_public(y, w)
    for name in BINARY:
        expected = reference(name, y, p, w)
        assert scorers.get(name).score(solution, p).public == pytest.approx(expected, **CLOSE), name


@settings(max_examples=40, deadline=None)
@given(
    binary_cases(),
    st.floats(min_value=0, max_value=0.99),
    st.floats(min_value=0.01, max_value=1),
    st.floats(min_value=0.05, max_value=0.95),
)
def test_operating_points_and_threshold_match_for_any_parameter(case, fpr, tpr, threshold):
    y, p, w = case
    for name, params in (("tpr_at_fpr", {"fpr": fpr}), ("fpr_at_tpr", {"tpr": tpr})):
        assert ours(name, y, p, w, **params) == pytest.approx(reference(name, y, p, w, **params), **CLOSE)
    for name in ("accuracy", "balanced_accuracy", "f1", "mcc"):
        expected = reference(name, y, p, w, threshold=threshold)
        assert ours(name, y, p, w, threshold=threshold) == pytest.approx(expected, **CLOSE), name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-100, max_value=100),
            st.floats(min_value=-100, max_value=100),
            st.floats(min_value=0.1, max_value=5),
        ),
        min_size=2,
        max_size=50,
    ),
    st.booleans(),
)
def test_regression_metrics_match_scikit_learn_on_generated_inputs(rows, weighted):
    y, p, w = (np.array(column) for column in zip(*rows, strict=True))
    assume(np.ptp(y) > 0)  # r2 needs targets that vary; the scorer refuses the others (tested elsewhere)
    weight = w if weighted else None
    for name in REGRESSION:
        assert ours(name, y, p, weight) == pytest.approx(reference(name, y, p, weight), **CLOSE), name


def test_ranking_of_many_rows_matches_scikit_learn():
    """The exact integer sums of the hot path hold at the platform's sizes."""
    rng = np.random.default_rng(11)
    n = 400_000
    y = (rng.random(n) < 0.02).astype(float)
    p = (y * 0.3 + rng.random(n)).round(3)
    for name in ("roc_auc", "average_precision"):
        assert ours(name, y, p) == pytest.approx(reference(name, y, p, None), rel=1e-12)


def test_constant_predictions_rank_nothing():
    y = np.array([0, 1, 0, 1, 1.0])
    p = np.full(5, 0.3)
    assert ours("roc_auc", y, p) == 0.5
    assert ours("average_precision", y, p) == pytest.approx(0.6)  # the share of positives
    assert ours("tpr_at_fpr", y, p) == 0.0 and ours("fpr_at_tpr", y, p) == 1.0


def test_perfect_and_reversed_rankings():
    y = np.array([0, 0, 1, 1.0])
    assert ours("roc_auc", y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert ours("roc_auc", y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert ours("tpr_at_fpr", y, [0.1, 0.2, 0.8, 0.9], fpr=0.0) == 1.0


def test_threshold_decides_hard_metrics_and_labels_work_as_predictions():
    y = np.array([0, 0, 1, 1.0])
    probabilities = np.array([0.2, 0.6, 0.55, 0.9])
    assert ours("accuracy", y, probabilities) == 0.75  # 0.6 is a false alarm at 0.5
    assert ours("accuracy", y, probabilities, threshold=0.58) == 0.5
    assert ours("accuracy", y, [0, 0, 1, 1]) == 1.0  # labels of 0 and 1 are read as themselves


def test_weights_change_the_score_as_they_should():
    """A missed high-luminosity bad lumisection costs more than a missed low-luminosity one."""
    y = np.array([1, 1, 0, 0.0])
    p = np.array([0.9, 0.1, 0.5, 0.2])  # the second bad one is missed
    light_miss, heavy_miss = ours("f1", y, p, [10, 1, 1, 1]), ours("f1", y, p, [1, 10, 1, 1])
    assert light_miss > heavy_miss
    assert ours("f1", y, p, [1, 1, 1, 1]) == ours("f1", y, p)
