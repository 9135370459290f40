"""Details for charts: down-sampled curves lying on scikit-learn's, confusion matrices, JSON-ready results."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

import scorers
from tests.scorers.files import all_public

RANKING = ["roc_auc", "average_precision", "tpr_at_fpr", "fpr_at_tpr"]


def on_curve(xs, ys, curve_x, curve_y) -> bool:
    """Whether every (x, y) point is one of the curve's points, up to the six decimals kept."""
    curve = np.column_stack([curve_x, curve_y])
    return all(np.abs(curve - point).max(axis=1).min() <= 1e-6 for point in zip(xs, ys, strict=True))


@pytest.fixture(scope="module")
def ranked_case():
    rng = np.random.default_rng(3)
    n = 50_000
    y = (rng.random(n) < 0.05).astype(float)
    p = (y * 0.4 + rng.random(n)).round(3)
    w = rng.random(n) + 0.1
    usage = np.where(rng.random(n) < 0.3, "Public", "Private")
    return y, p, w, usage


@pytest.mark.parametrize("weighted", [False, True])
def test_roc_and_precision_recall_curves_are_scikit_learns_down_sampled(ranked_case, weighted):
    y, p, w, usage = ranked_case
    w = w if weighted else None
    details = scorers.get("roc_auc").score(all_public(y, w, usage), p).details
    assert set(details) == {"public", "private"}
    for side in ("Public", "Private"):
        rows = usage == side
        weight = None if w is None else w[rows]
        roc, pr = details[side.lower()]["roc"], details[side.lower()]["pr"]
        assert 100 < len(roc["fpr"]) <= 200 and len(roc["fpr"]) == len(roc["tpr"])
        assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
        assert np.all(np.diff(roc["fpr"]) >= 0) and np.all(np.diff(roc["tpr"]) >= 0)
        fpr, tpr, _ = skm.roc_curve(y[rows], p[rows], sample_weight=weight, drop_intermediate=False)
        assert on_curve(roc["fpr"], roc["tpr"], fpr, tpr)
        assert 100 < len(pr["recall"]) <= 200 and (pr["recall"][0], pr["precision"][0]) == (0, 1)
        precision, recall, _ = skm.precision_recall_curve(y[rows], p[rows], sample_weight=weight)
        assert on_curve(pr["recall"], pr["precision"], recall, precision)


def test_every_ranking_metric_gives_the_curves():
    y = np.array([0, 1, 0, 1, 1, 0.0])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7])
    for name in RANKING:
        details = scorers.get(name).score(all_public(y), p).details["public"]
        assert set(details) == {"roc", "pr"}
        assert details["roc"]["tpr"][-1] == 1 and len(details["roc"]["fpr"]) <= 7


@pytest.mark.parametrize("weighted", [False, True])
def test_decision_metrics_give_scikit_learns_confusion_matrix(ranked_case, weighted):
    y, p, w, _ = ranked_case
    w = w if weighted else None
    for name in ("accuracy", "balanced_accuracy", "f1", "mcc"):
        details = scorers.get(name, threshold=0.7).score(all_public(y, w), p).details["public"]
        expected = skm.confusion_matrix(y, (p >= 0.7).astype(int), labels=[0, 1], sample_weight=w)
        assert details["threshold"] == 0.7 and details["confusion"]["labels"] == [0, 1]
        np.testing.assert_allclose(details["confusion"]["matrix"], expected, rtol=1e-12)


def test_log_loss_gives_calibration_and_regression_gives_error_quantiles():
    y = np.array([0, 0, 1, 1.0])
    calibration = scorers.get("log_loss").score(all_public(y), np.array([0.05, 0.15, 0.85, 0.95]))
    assert calibration.details["public"]["calibration"] == {
        "predicted": [0.05, 0.15, 0.85, 0.95],
        "observed": [0.0, 0.0, 1.0, 1.0],
        "weight": [1.0, 1.0, 1.0, 1.0],
    }
    errors = scorers.get("mae").score(all_public([1.0, 2, 3, 4, 5]), np.array([1.0, 2, 3, 4, 15])).details
    quantiles = errors["public"]["errors"]
    assert quantiles["quantiles"][2] == 0.5 and quantiles["values"][-1] == 8.0


@pytest.mark.parametrize("name", sorted(scorers.REGISTRY))
def test_every_result_is_json_ready(name):
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.3).astype(float)
    usage = np.where(np.arange(300) < 100, "Public", "Private")
    result = scorers.get(name).score(all_public(y, usage=usage), rng.random(300))
    body = json.loads(json.dumps(result.as_json(), allow_nan=False))
    assert set(body) == {"metric", "version", "public", "private", "n_public", "n_private", "details"}
    assert body["metric"] == name and body["version"] == scorers.REGISTRY[name].version
    assert (body["n_public"], body["n_private"]) == (100, 200)
    assert set(body["details"]) == {"public", "private"}
