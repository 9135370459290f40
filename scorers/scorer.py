"""What every metric shares: parameters, the checks of solution and predictions, and scoring both sides."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from scorers.errors import MAX_QUOTED, ValidationError, clip, listing
from scorers.io import Source
from scorers.result import ScoreResult
from scorers.solution import Solution
from scorers.submission import predictions_of, read_submission
from scorers.validation import require_finite

Details = dict[str, Any]  # what charts of one side need, ready for JSON


class Scorer:
    """A metric: name, version, direction, parameters, and how to score one side of the split."""

    name: ClassVar[str]
    version: ClassVar[str] = "2"
    direction: ClassVar[str] = "higher"  # which scores are better: "higher" or "lower"
    defaults: ClassVar[dict[str, float]] = {}
    binary_targets: ClassVar[bool] = False  # the solution's targets must be 0 or 1
    needs_both_classes: ClassVar[bool] = False  # each side of the split must hold both classes
    needs_varying_targets: ClassVar[bool] = False  # each side must hold more than one target value
    probabilities: ClassVar[bool] = False  # predictions must lie in [0, 1]

    def __init__(self, **params: float) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise ValueError(
                f"{self.name} takes no parameter {clip(', '.join(map(str, unknown)))} (its parameters: {known})"
            )
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{self.name}'s parameter {key} must be a number, not {clip(repr(value), MAX_QUOTED)}")
        self.params = {**self.defaults, **{key: float(value) for key, value in params.items()}}
        self.check_params()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"

    def check_params(self) -> None:
        """Refuse parameter values outside the metric's range (ValueError)."""

    def evaluate(self, y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> tuple[float, Details]:
        """The metric and the chart details of one side."""
        raise NotImplementedError

    def score(
        self, solution: Solution, submission: np.ndarray | pa.Table | Source, *, max_bytes: int | None = None
    ) -> ScoreResult:
        """Public and private scores of a submission: predictions in the solution's order, a table, a file.

        max_bytes bounds a file once decompressed (None: no bound).
        """
        predictions = self.predictions(solution, submission, max_bytes=max_bytes)
        self.check_solution(solution)
        self.check_predictions(solution, predictions)
        values: dict[str, float | None] = {}
        counts: dict[str, int] = {}
        details: dict[str, Any] = {}
        for side, mask in (("public", solution.public), ("private", solution.private)):
            counts[side] = int(np.count_nonzero(mask))
            values[side] = None
            if counts[side]:
                value, details[side] = self.evaluate_side(solution, predictions, mask)
                values[side] = float(value)
        return ScoreResult(
            metric=self.name,
            version=self.version,
            public=values["public"],
            private=values["private"],
            n_public=counts["public"],
            n_private=counts["private"],
            details=details,
        )

    def predictions(
        self, solution: Solution, submission: np.ndarray | pa.Table | Source, *, max_bytes: int | None = None
    ) -> np.ndarray:
        """The submission's predictions in the solution's row order, read and checked when need be."""
        if isinstance(submission, np.ndarray):
            if submission.shape != (solution.n_rows,):
                raise ValueError(f"expected {solution.n_rows} predictions in the solution's order")
            return submission.astype(np.float64, copy=False)
        if isinstance(submission, pa.Table):
            return predictions_of(submission, solution)
        return read_submission(submission, solution, max_bytes=max_bytes)

    def evaluate_side(self, solution: Solution, p: np.ndarray, rows: np.ndarray) -> tuple[float, Details]:
        """The metric and the chart details of the rows of one side, p being all predictions."""
        if rows.all():  # everything on one side: no copies
            return self.evaluate(solution.y, p, solution.weight)
        weight = None if solution.weight is None else np.compress(rows, solution.weight)
        return self.evaluate(np.compress(rows, solution.y), np.compress(rows, p), weight)

    def check_solution(self, solution: Solution) -> None:
        """Refuse a solution this metric cannot score (an organiser's error)."""
        y = solution.y
        if self.binary_targets and not np.all((y == 0) | (y == 1)):
            other = (solution.public | solution.private) & (y != 0) & (y != 1)
            if other.any():
                bad = listing(solution.ids.filter(pa.array(other)), "labelled otherwise")
                raise ValidationError(f"{self.name} needs targets of 0 or 1; in the solution, {bad}.")
        for side, rows in (("public", solution.public), ("private", solution.private)):
            if rows.any():
                self._check_side(side, y, solution.weight, rows)

    def _check_side(self, side: str, y: np.ndarray, weight: np.ndarray | None, rows: np.ndarray) -> None:
        if weight is not None:
            if not np.sum(weight, where=rows) > 0:
                raise ValidationError(f"The {side} part of the solution has a total weight of 0.")
            rows = rows & (weight > 0)  # rows of no weight count as if they were not there
        if self.needs_both_classes:
            positives, total = np.count_nonzero(rows & (y == 1)), np.count_nonzero(rows)
            if positives in (0, total):
                raise ValidationError(
                    f"The {side} part of the solution holds only the class {int(positives > 0)}: "
                    f"{self.name} needs both classes on each side of the split."
                )
        if self.needs_varying_targets:
            targets = np.compress(rows, y)
            if targets.min() == targets.max():
                raise ValidationError(
                    f"The {side} part of the solution holds only the target {targets[0]:g}: "
                    f"{self.name} needs targets that vary on each side of the split."
                )

    def check_predictions(self, solution: Solution, predictions: np.ndarray) -> None:
        """Refuse predictions this metric cannot score (a participant's error)."""
        require_finite(predictions, solution.ids, "submission", solution.target_column)
        if self.probabilities:
            outside = (predictions < 0) | (predictions > 1)
            if outside.any():
                bad = solution.ids.filter(pa.array(outside))
                message = f"{self.name} needs probabilities between 0 and 1; {listing(bad, 'outside')}."
                raise ValidationError(message)

    @classmethod
    def as_json(cls) -> dict[str, Any]:
        """What `python -m scorers list` shows: name, version, direction, parameters, description."""
        return {
            "name": cls.name,
            "version": cls.version,
            "direction": cls.direction,
            "parameters": dict(cls.defaults),
            "description": (cls.__doc__ or "").strip().splitlines()[0],
        }
