"""The metrics. Adding one is a class here and a line in REGISTRY."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from scorers import curves
from scorers.errors import ValidationError, listing
from scorers.result import ScoreResult
from scorers.solution import Solution


def skm():
    """scikit-learn's metrics, imported on first use: the hot metrics do not need its import time and memory."""
    from sklearn import metrics

    return metrics


class Scorer:
    """A metric: name, version, direction, parameters, and how to score one side of the split."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    direction: ClassVar[str] = "higher"  # or "lower": which scores are better
    defaults: ClassVar[dict[str, Any]] = {}
    binary_targets: ClassVar[bool] = False  # the solution's targets must be 0 or 1
    needs_both_classes: ClassVar[bool] = False  # each side of the split must hold both classes
    probabilities: ClassVar[bool] = False  # predictions must lie in [0, 1]

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise ValueError(f"{self.name} takes no parameter {', '.join(unknown)} (its parameters: {known})")
        self.params = {**self.defaults, **params}

    def compute(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> float:
        """The metric on one side of the split."""
        raise NotImplementedError

    def details(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> dict[str, Any]:
        """What charts show for one side (curves or a confusion matrix)."""
        return {}

    def check_solution(self, solution: Solution) -> None:
        """Refuse a solution this metric cannot score (an organiser's error)."""
        y = solution.y
        if self.binary_targets and not ((y == 0) | (y == 1)).all():
            raise ValidationError(f"{self.name} needs targets of 0 or 1; the solution has other values.")
        if self.needs_both_classes:
            for side, mask in (("public", solution.public), ("private", solution.private)):
                side_y = y[mask]
                if side_y.size and side_y.min() == side_y.max():
                    raise ValidationError(
                        f"The {side} part of the solution holds only the class {side_y[0]:g}: "
                        f"{self.name} needs both classes on each side."
                    )

    def check_predictions(self, predictions: np.ndarray, solution: Solution) -> None:
        """Refuse predictions this metric cannot score (a participant's error)."""
        if self.probabilities:
            outside = (predictions < 0) | (predictions > 1)
            if outside.any():
                ids = solution.ids.filter(pa.array(outside)).to_pylist()
                raise ValidationError(f"{self.name} needs probabilities between 0 and 1; " + listing(ids, "outside"))

    def evaluate(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> tuple[float, dict[str, Any]]:
        """The metric and the chart details of one side."""
        return float(self.compute(y, p, w)), self.details(y, p, w)

    def score(self, solution: Solution, predictions: np.ndarray) -> ScoreResult:
        """Public and private scores of predictions lined up with the solution's rows."""
        self.check_solution(solution)
        self.check_predictions(predictions, solution)
        scores, details = {}, {}
        for side, mask in (("public", solution.public), ("private", solution.private)):
            if not mask.any():
                scores[side] = None
                continue
            y, p = solution.y[mask], predictions[mask]
            w = None if solution.weight is None else solution.weight[mask]
            scores[side], details[side] = self.evaluate(y, p, w)
        return ScoreResult(
            self.name,
            self.version,
            scores["public"],
            scores["private"],
            int(solution.public.sum()),
            int(solution.private.sum()),
            details,
        )

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Name, direction and parameters, as `python -m scorers list` prints them."""
        return {
            "name": cls.name,
            "version": cls.version,
            "direction": cls.direction,
            "parameters": cls.defaults,
        }


class RankingScorer(Scorer):
    """Metrics of how well scores order the bad (1) before the good (0): one sort gives them all."""

    binary_targets = True
    needs_both_classes = True

    def compute(self, y, p, w):
        return self.from_curve(*curves.clf_curve(y, p, w)[:2])

    def evaluate(self, y, p, w):
        fps, tps, _ = curves.clf_curve(y, p, w)  # one sort serves the score and the curves
        return self.from_curve(fps, tps), self.curves(fps, tps)

    def from_curve(self, fps: np.ndarray, tps: np.ndarray) -> float:
        """The metric from the cumulative counts."""
        raise NotImplementedError

    def details(self, y, p, w):
        return self.curves(*curves.clf_curve(y, p, w)[:2])

    def curves(self, fps: np.ndarray, tps: np.ndarray) -> dict[str, Any]:
        """ROC and precision-recall curves, down-sampled for charts."""
        fpr, tpr = curves.roc(fps, tps)
        precision, recall = curves.precision_recall(fps, tps)
        roc_x, roc_y = curves.downsample(fpr, tpr)
        pr_x, pr_y = curves.downsample(np.r_[0.0, recall], np.r_[1.0, precision])
        return {"roc": {"fpr": roc_x, "tpr": roc_y}, "pr": {"recall": pr_x, "precision": pr_y}}


class RocAuc(RankingScorer):
    name = "roc_auc"

    def from_curve(self, fps, tps):
        return curves.roc_auc(fps, tps)


class AveragePrecision(RankingScorer):
    name = "average_precision"

    def from_curve(self, fps, tps):
        return curves.average_precision(fps, tps)


class TprAtFpr(RankingScorer):
    """Share of bad lumisections caught while raising false alarms on at most `fpr` of the good ones."""

    name = "tpr_at_fpr"
    defaults = {"fpr": 0.01}

    def from_curve(self, fps, tps):
        fpr, tpr = curves.roc(fps, tps)
        return float(tpr[fpr <= self.params["fpr"]].max())


class FprAtTpr(RankingScorer):
    """Share of good lumisections falsely flagged when catching at least `tpr` of the bad ones."""

    name = "fpr_at_tpr"
    direction = "lower"
    defaults = {"tpr": 0.9}

    def from_curve(self, fps, tps):
        fpr, tpr = curves.roc(fps, tps)
        return float(fpr[tpr >= self.params["tpr"]].min())


class LogLoss(Scorer):
    name = "log_loss"
    direction = "lower"
    binary_targets = True
    probabilities = True

    def compute(self, y, p, w):
        return skm().log_loss(y, p, sample_weight=w, labels=[0, 1])


class ThresholdScorer(Scorer):
    """Metrics of hard decisions: binary targets take predictions >= threshold as 1."""

    binary_targets = True
    defaults = {"threshold": 0.5}
    function: ClassVar[str]  # the name of scikit-learn's function

    def labels(self, p: np.ndarray) -> np.ndarray:
        """The decisions the predictions stand for."""
        return (p >= self.params["threshold"]).astype(np.float64)

    def compute(self, y, p, w):
        return getattr(skm(), self.function)(y, self.labels(p), sample_weight=w)

    def details(self, y, p, w):
        matrix = skm().confusion_matrix(y, self.labels(p), labels=[0, 1], sample_weight=w)
        return {"confusion": {"labels": [0, 1], "matrix": matrix.tolist()}}


class Accuracy(ThresholdScorer):
    name = "accuracy"
    function = "accuracy_score"


class BalancedAccuracy(ThresholdScorer):
    name = "balanced_accuracy"
    function = "balanced_accuracy_score"


class F1(ThresholdScorer):
    name = "f1"

    def compute(self, y, p, w):
        return skm().f1_score(y, self.labels(p), sample_weight=w, zero_division=0.0)


class Mcc(ThresholdScorer):
    name = "mcc"
    function = "matthews_corrcoef"


class RegressionScorer(Scorer):
    """Metrics of numeric predictions; details give the error distribution."""

    def details(self, y, p, w):
        errors = p - y
        return {"errors": {"quantiles": np.quantile(errors, [0.05, 0.25, 0.5, 0.75, 0.95]).round(6).tolist()}}


class Rmse(RegressionScorer):
    name = "rmse"
    direction = "lower"

    def compute(self, y, p, w):
        return float(np.sqrt(skm().mean_squared_error(y, p, sample_weight=w)))


class Mae(RegressionScorer):
    name = "mae"
    direction = "lower"

    def compute(self, y, p, w):
        return skm().mean_absolute_error(y, p, sample_weight=w)


class R2(RegressionScorer):
    name = "r2"

    def compute(self, y, p, w):
        return skm().r2_score(y, p, sample_weight=w)


REGISTRY: dict[str, type[Scorer]] = {
    cls.name: cls
    for cls in (
        RocAuc,
        AveragePrecision,
        TprAtFpr,
        FprAtTpr,
        LogLoss,
        Accuracy,
        BalancedAccuracy,
        F1,
        Mcc,
        Rmse,
        Mae,
        R2,
    )
}


def get(name: str, **params: Any) -> Scorer:
    """The scorer registered under name, with its parameters; KeyError listing the known names."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known metrics: {', '.join(sorted(REGISTRY))}") from None
    return cls(**params)
