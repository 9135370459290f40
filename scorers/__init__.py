"""Scoring predictions against hidden solutions: a metric registry, strict validation, a public/private split.

NumPy and pyarrow only (scikit-learn is the reference of the tests), nothing from the platform, so that
organisers score on their own machines exactly as the platform's workers do::

    solution = scorers.Solution.load("solution.csv", public_fraction=0.3, split_seed=42)  # once
    result = scorers.get("roc_auc").score(solution, "predictions.csv")  # per submission
    result.public, result.private, result.as_json()

Anything wrong with a file raises `ValidationError`, whose message names the problem and the first ids.
Functions that read files take `max_bytes`, the most a file may hold once decompressed; a submission's
columns and rows are bounded by the solution's shape, so an absurd file is refused before it is parsed.
`validate_submission` checks a file without scoring it; a sample submission loads as a `Solution` too, to
check files against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scorers.errors import UnknownMetricError, ValidationError
from scorers.io import Source, read_table
from scorers.metrics import REGISTRY, get
from scorers.result import ScoreResult
from scorers.scorer import Scorer
from scorers.solution import Solution
from scorers.submission import read_submission

__all__ = [
    "REGISTRY",
    "ScoreResult",
    "Scorer",
    "Solution",
    "Source",
    "UnknownMetricError",
    "ValidationError",
    "get",
    "read_submission",
    "read_table",
    "score_files",
    "validate_submission",
]


def score_files(
    metric: str,
    solution: Source,
    submission: Source,
    *,
    id_column: str = "id",
    target_column: str | None = None,
    public_fraction: float = 0.3,
    split_seed: int = 0,
    max_bytes: int | None = None,
    **params: Any,
) -> ScoreResult:
    """Score a submission file against a solution file in one call; params go to the metric (fpr=0.05).

    max_bytes bounds each file once decompressed (None: no bound).
    """
    scorer = get(metric, **params)
    loaded = Solution.load(
        solution,
        id_column=id_column,
        target_column=target_column,
        public_fraction=public_fraction,
        split_seed=split_seed,
        max_bytes=max_bytes,
    )
    return scorer.score(loaded, submission, max_bytes=max_bytes)


def validate_submission(
    submission: Source, solution: Solution, scorer: Scorer | None = None, *, max_bytes: int | None = None
) -> np.ndarray:
    """Check a submission without scoring it (for the metric's needs too, given a scorer); its predictions."""
    predictions = read_submission(submission, solution, max_bytes=max_bytes)
    if scorer is not None:
        scorer.check_predictions(solution, predictions)
    return predictions
