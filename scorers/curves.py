"""ROC and precision-recall arithmetic, computed as scikit-learn does, in one sort."""

from __future__ import annotations

import numpy as np

MAX_POINTS = 200


def clf_curve(
    y: np.ndarray, scores: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive (weighted) counts at each distinct score, highest score first."""
    # Ties are grouped below, so the sort need not be stable; quicksort is twice as fast as mergesort.
    order = np.argsort(scores)[::-1]
    scores, y = scores[order], y[order]
    distinct = np.flatnonzero(np.diff(scores))
    last = np.r_[distinct, y.size - 1]
    if weight is None:
        tps = np.cumsum(y)[last]
        fps = 1 + last - tps
    else:
        weight = weight[order]
        tps = np.cumsum(y * weight)[last]
        fps = np.cumsum((1 - y) * weight)[last]
    return fps, tps, scores[last]


def roc(fps: np.ndarray, tps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates, starting at (0, 0)."""
    fpr = np.r_[0.0, fps] / fps[-1]
    tpr = np.r_[0.0, tps] / tps[-1]
    return fpr, tpr


def roc_auc(fps: np.ndarray, tps: np.ndarray) -> float:
    """Area under the ROC curve by the trapezoidal rule."""
    fpr, tpr = roc(fps, tps)
    return float(np.trapezoid(tpr, fpr))


def precision_recall(fps: np.ndarray, tps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at each threshold, highest threshold first."""
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps, dtype=np.float64), where=predicted != 0)
    recall = tps / tps[-1]
    return precision, recall


def average_precision(fps: np.ndarray, tps: np.ndarray) -> float:
    """Sum over thresholds of the recall gained times the precision there."""
    precision, recall = precision_recall(fps, tps)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def downsample(*columns: np.ndarray, points: int = MAX_POINTS) -> list[list[float]]:
    """At most `points` evenly spread rows of the columns, first and last kept, as lists for JSON."""
    n = len(columns[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, points)).round().astype(int)) if n else np.zeros(0, int)
    return [np.asarray(c, dtype=np.float64)[keep].round(6).tolist() for c in columns]
