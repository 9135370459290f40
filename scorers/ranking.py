"""Ranking metrics from the scores of each class sorted apart, with ties handled as scikit-learn does.

scikit-learn sorts all scores together and walks its ROC curve threshold by threshold. Sorting the
positives (label 1) and the negatives (label 0) apart gives the same curve: the weight of each class at or
above any threshold is one binary search away. Sorting values is several times faster than arg-sorting
them, and the area under the ROC curve becomes an exact sum over the positives of the negatives below
them (ties counting half), which the trapezoids of scikit-learn's curve add up to.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

MAX_POINTS = 200


class ClassScores:
    """One class's scores in ascending order, and the weight at or above each position."""

    def __init__(self, scores: np.ndarray, weight: np.ndarray | None) -> None:
        if weight is None:
            self.values = np.sort(scores)
            self.weights = None
            self.tail = None
            self.total = float(len(scores))
        else:
            order = np.argsort(scores)
            self.values = scores[order]
            self.weights = weight[order]
            # Accumulated from the highest score down, as scikit-learn's cumulative sums are.
            self.tail = np.append(np.cumsum(self.weights[::-1])[::-1], 0.0)
            self.total = float(self.tail[0])

    def weight_from(self, positions: np.ndarray) -> np.ndarray:
        """The weight of the scores at and after each position of the sorted order."""
        return len(self.values) - positions if self.tail is None else self.tail[positions]

    def weight_before(self, positions: np.ndarray) -> np.ndarray:
        """The weight of the scores before each position of the sorted order."""
        return positions if self.weights is None else self.head[positions]

    @cached_property
    def head(self) -> np.ndarray:
        """The weight before each position, summed upwards (subtracting from the total would lose digits)."""
        if self.weights is None:
            raise ValueError("unweighted scores have no weight before a position: it is the position")
        return np.append(0.0, np.cumsum(self.weights))

    def weight_at_or_above(self, thresholds: np.ndarray, strict: bool = False) -> np.ndarray:
        """The weight of the scores at or above (strictly above, when strict) each threshold."""
        return self.weight_from(np.searchsorted(self.values, thresholds, side="right" if strict else "left"))

    def groups(self) -> np.ndarray:
        """The first position of each distinct score."""
        return np.flatnonzero(np.r_[True, self.values[1:] != self.values[:-1]])


@dataclass(frozen=True)
class Ranked:
    """The scores of one side of the split, positives and negatives sorted apart."""

    positives: ClassScores
    negatives: ClassScores

    @classmethod
    def of(
        cls,
        y: np.ndarray,
        scores: np.ndarray,
        weight: np.ndarray | None,
        rows: np.ndarray | None = None,
    ) -> Ranked:
        """Split the scores of the rows (by default all) by true class, 1 being positive; sort each class."""
        positive = y == 1
        negative = ~positive
        if rows is not None:
            positive &= rows
            negative &= rows
        return cls(_class(scores, weight, positive), _class(scores, weight, negative))


def _class(scores: np.ndarray, weight: np.ndarray | None, rows: np.ndarray) -> ClassScores:
    # np.compress copies the selected rows about twice as fast as indexing with the mask.
    return ClassScores(np.compress(rows, scores), None if weight is None else np.compress(rows, weight))


def roc_auc(ranked: Ranked) -> float:
    """Area under the ROC curve: the chance that a positive outscores a negative, ties counting half."""
    pos, neg = ranked.positives, ranked.negatives
    below = np.searchsorted(neg.values, pos.values, side="left")
    below_or_tied = np.searchsorted(neg.values, pos.values, side="right")
    if pos.weights is None:
        # Whole numbers: the exact ratio, rounded once.
        return int(below.sum() + below_or_tied.sum()) / (2 * len(pos.values) * len(neg.values))
    pairs = np.dot(pos.weights, neg.weight_before(below) + neg.weight_before(below_or_tied))
    return float(pairs / (2 * pos.total * neg.total))


def average_precision(ranked: Ranked) -> float:
    """Precision at each distinct positive score, weighted by the recall gained there."""
    pos, neg = ranked.positives, ranked.negatives
    starts = pos.groups()
    thresholds = pos.values[starts]
    true_pos = pos.weight_from(starts)
    false_pos = neg.weight_at_or_above(thresholds)
    if pos.weights is None:
        gained = np.diff(np.append(starts, len(pos.values)))
    else:
        gained = np.add.reduceat(pos.weights, starts)
    flagged = true_pos + false_pos
    precision = np.divide(true_pos, flagged, out=np.zeros(len(starts)), where=flagged > 0)
    return float(np.sum(gained / pos.total * precision))


def tpr_at_fpr(ranked: Ranked, fpr: float) -> float:
    """The largest share of positives caught at a threshold whose false positive rate is at most fpr."""
    pos, neg = ranked.positives, ranked.negatives
    starts = neg.groups()
    over = np.flatnonzero(neg.weight_from(starts) / neg.total > fpr)  # the highest negatives come last
    if not len(over):
        return 1.0
    # Only thresholds above the highest negative score that breaks the limit are allowed.
    limit = neg.values[starts[over[-1]]]
    return float(pos.weight_at_or_above(np.array([limit]), strict=True)[0] / pos.total)


def fpr_at_tpr(ranked: Ranked, tpr: float) -> float:
    """The smallest false positive rate at a threshold that catches at least tpr of the positives."""
    pos, neg = ranked.positives, ranked.negatives
    starts = pos.groups()
    enough = np.flatnonzero(pos.weight_from(starts) / pos.total >= tpr)  # never empty: the lowest catches all
    threshold = pos.values[starts[enough[-1]]]
    return float(neg.weight_at_or_above(np.array([threshold]))[0] / neg.total)


def curves(ranked: Ranked, points: int = MAX_POINTS) -> dict[str, dict[str, list[float]]]:
    """ROC and precision-recall curves at no more than `points` thresholds, exact at each, for charts."""
    pos, neg = ranked.positives, ranked.negatives
    # Thresholds spread evenly over each class's scores: the true and the false positive rates both move
    # in even steps, and the lowest score of each class is kept, so the curves end at recall 1.
    picks = [
        scores.values[np.unique(np.linspace(0, len(scores.values) - 1, (points - 1) // 2).astype(np.int64))]
        for scores in (pos, neg)
        if len(scores.values)
    ]
    thresholds = np.unique(np.concatenate(picks))[::-1]
    true_pos = pos.weight_at_or_above(thresholds).astype(np.float64)
    false_pos = neg.weight_at_or_above(thresholds).astype(np.float64)
    flagged = true_pos + false_pos
    precision = np.divide(true_pos, flagged, out=np.ones(len(thresholds)), where=flagged > 0)
    recall = np.r_[0.0, true_pos / pos.total]
    return {
        "roc": {"fpr": _rounded(np.r_[0.0, false_pos / neg.total]), "tpr": _rounded(recall)},
        "pr": {"recall": _rounded(recall), "precision": _rounded(np.r_[1.0, precision])},
    }


def _rounded(values: np.ndarray) -> list[float]:
    return values.round(6).tolist()
