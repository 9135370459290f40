"""The metrics, each equal to scikit-learn's on the same arrays. Adding one: a class here, a line in REGISTRY.

Every metric takes the solution's optional weight column as scikit-learn's sample_weight. Metrics of hard
decisions (accuracy, balanced_accuracy, f1, mcc) read a prediction at or above `threshold` (0.5 unless
set) as a 1 and anything lower as a 0, so they take probabilities and 0/1 labels alike.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scorers import ranking
from scorers.errors import MAX_QUOTED, UnknownMetricError, clip
from scorers.scorer import Details, Scorer
from scorers.solution import Solution

# The smallest and largest probabilities log_loss takes, as scikit-learn clips them.
_EPS = np.finfo(np.float64).eps


class RankingScorer(Scorer):
    """Metrics of how well the scores put the positives (1, e.g. bad lumisections) above the negatives (0)."""

    binary_targets = True
    needs_both_classes = True

    def evaluate(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> tuple[float, Details]:
        ranked = ranking.Ranked.of(y, p, w)  # one sort per class serves the score and the curves
        return self.from_ranking(ranked), ranking.curves(ranked)

    def evaluate_side(self, solution: Solution, p: np.ndarray, rows: np.ndarray) -> tuple[float, Details]:
        # Straight from all rows to each class of the side: half the copies of taking the side first.
        ranked = ranking.Ranked.of(solution.y, p, solution.weight, rows)
        return self.from_ranking(ranked), ranking.curves(ranked)

    def from_ranking(self, ranked: ranking.Ranked) -> float:
        """The metric from the sorted scores of each class."""
        raise NotImplementedError


class RocAuc(RankingScorer):
    """Area under the ROC curve."""

    name = "roc_auc"

    def from_ranking(self, ranked: ranking.Ranked) -> float:
        return ranking.roc_auc(ranked)


class AveragePrecision(RankingScorer):
    """Average precision: the area under the precision-recall curve, without interpolation."""

    name = "average_precision"

    def from_ranking(self, ranked: ranking.Ranked) -> float:
        return ranking.average_precision(ranked)


class TprAtFpr(RankingScorer):
    """Share of positives (bad lumisections) caught with false alarms on at most `fpr` of the negatives."""

    name = "tpr_at_fpr"
    defaults: ClassVar[dict[str, float]] = {"fpr": 0.01}

    def check_params(self) -> None:
        if not 0 <= self.params["fpr"] < 1:
            raise ValueError(f"tpr_at_fpr's fpr must lie in [0, 1), not {self.params['fpr']}")

    def from_ranking(self, ranked: ranking.Ranked) -> float:
        return ranking.tpr_at_fpr(ranked, self.params["fpr"])


class FprAtTpr(RankingScorer):
    """Share of negatives falsely flagged when catching at least `tpr` of the positives."""

    name = "fpr_at_tpr"
    direction = "lower"
    defaults: ClassVar[dict[str, float]] = {"tpr": 0.9}

    def check_params(self) -> None:
        if not 0 < self.params["tpr"] <= 1:
            raise ValueError(f"fpr_at_tpr's tpr must lie in (0, 1], not {self.params['tpr']}")

    def from_ranking(self, ranked: ranking.Ranked) -> float:
        return ranking.fpr_at_tpr(ranked, self.params["tpr"])


class LogLoss(Scorer):
    """Logarithmic loss of predicted probabilities of the class 1."""

    name = "log_loss"
    direction = "lower"
    binary_targets = True
    probabilities = True

    def evaluate(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> tuple[float, Details]:
        likelihood = np.clip(np.where(y == 1, p, 1 - p), _EPS, 1 - _EPS)
        return float(np.average(-np.log(likelihood), weights=w)), {"calibration": calibration(y, p, w)}


def calibration(y: np.ndarray, p: np.ndarray, w: np.ndarray | None, bins: int = 10) -> dict[str, list[float]]:
    """Mean prediction and observed share of 1s in ten equal bins of predicted probability, for a chart."""
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    weight = np.bincount(which, weights=w, minlength=bins).astype(np.float64)
    predicted = np.bincount(which, weights=p if w is None else p * w, minlength=bins)
    observed = np.bincount(which, weights=y if w is None else y * w, minlength=bins)
    used = weight > 0
    return {
        "predicted": (predicted[used] / weight[used]).round(6).tolist(),
        "observed": (observed[used] / weight[used]).round(6).tolist(),
        "weight": weight[used].round(6).tolist(),
    }


class ThresholdScorer(Scorer):
    """Metrics of hard decisions: a prediction at or above the threshold means 1."""

    binary_targets = True
    defaults: ClassVar[dict[str, float]] = {"threshold": 0.5}

    def evaluate(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> tuple[float, Details]:
        decided = p >= self.params["threshold"]
        # Rows are true class, columns decided class, as in scikit-learn's confusion_matrix(labels=[0, 1]).
        matrix = np.bincount(2 * (y == 1) + decided, weights=w, minlength=4).reshape(2, 2)
        confusion = {"labels": [0, 1], "matrix": matrix.tolist()}
        details = {"threshold": self.params["threshold"], "confusion": confusion}
        return self.from_confusion(matrix.astype(np.float64)), details

    def from_confusion(self, matrix: np.ndarray) -> float:
        """The metric from the (weighted) 2x2 confusion matrix."""
        raise NotImplementedError


class Accuracy(ThresholdScorer):
    """Share of rows whose decision is right."""

    name = "accuracy"

    def from_confusion(self, matrix: np.ndarray) -> float:
        return np.trace(matrix) / matrix.sum()


class BalancedAccuracy(ThresholdScorer):
    """Mean of the recall of each class present in the solution."""

    name = "balanced_accuracy"

    def from_confusion(self, matrix: np.ndarray) -> float:
        rows = matrix.sum(axis=1)
        present = rows > 0  # as scikit-learn, a class absent from the targets does not count
        return float(np.mean(np.diag(matrix)[present] / rows[present]))


class F1(ThresholdScorer):
    """Harmonic mean of precision and recall of the class 1 (0 when there is nothing to find or flag)."""

    name = "f1"

    def from_confusion(self, matrix: np.ndarray) -> float:
        true_pos = matrix[1, 1]
        denominator = matrix[1].sum() + matrix[:, 1].sum()
        return 2 * true_pos / denominator if denominator else 0.0


class Mcc(ThresholdScorer):
    """Matthews correlation coefficient of the decisions with the targets (0 when either is constant)."""

    name = "mcc"

    def from_confusion(self, matrix: np.ndarray) -> float:
        # scikit-learn's formula, term for term, so that the two agree to the last digits.
        true_sum, decided_sum = matrix.sum(axis=1), matrix.sum(axis=0)
        n = decided_sum.sum()
        cov_ytyp = np.trace(matrix) * n - np.dot(true_sum, decided_sum)
        cov_ypyp = n**2 - np.dot(decided_sum, decided_sum)
        cov_ytyt = n**2 - np.dot(true_sum, true_sum)
        product = cov_ypyp * cov_ytyt
        return 0.0 if product == 0 else float(cov_ytyp / np.sqrt(product))


class RegressionScorer(Scorer):
    """Metrics of numeric predictions; the details give quantiles of the errors."""

    def evaluate(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> tuple[float, Details]:
        quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]
        errors = np.quantile(p - y, quantiles).round(6).tolist()
        return self.compute(y, p, w), {"errors": {"quantiles": quantiles, "values": errors}}

    def compute(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
        """The metric of one side."""
        raise NotImplementedError


class Rmse(RegressionScorer):
    """Root mean squared error."""

    name = "rmse"
    direction = "lower"

    def compute(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
        return float(np.sqrt(np.average((y - p) ** 2, weights=w)))


class Mae(RegressionScorer):
    """Mean absolute error."""

    name = "mae"
    direction = "lower"

    def compute(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
        return float(np.average(np.abs(p - y), weights=w))


class R2(RegressionScorer):
    """Coefficient of determination."""

    name = "r2"
    needs_varying_targets = True

    def compute(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
        weight = 1.0 if w is None else w
        residual = np.sum(weight * (y - p) ** 2)
        total = np.sum(weight * (y - np.average(y, weights=w)) ** 2)
        if total == 0:  # targets so close that their spread underflows: scikit-learn's finite convention
            return 1.0 if residual == 0 else 0.0
        return float(1 - residual / total)


REGISTRY: dict[str, type[Scorer]] = {
    "roc_auc": RocAuc,
    "average_precision": AveragePrecision,
    "tpr_at_fpr": TprAtFpr,
    "fpr_at_tpr": FprAtTpr,
    "log_loss": LogLoss,
    "accuracy": Accuracy,
    "balanced_accuracy": BalancedAccuracy,
    "f1": F1,
    "mcc": Mcc,
    "rmse": Rmse,
    "mae": Mae,
    "r2": R2,
}


def get(name: str, **params: Any) -> Scorer:
    """The scorer registered under name, with its parameters; UnknownMetricError lists the known names."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise UnknownMetricError(
            f"unknown metric {clip(str(name), MAX_QUOTED)!r}; known metrics: {', '.join(REGISTRY)}"
        ) from None
    return cls(**params)
