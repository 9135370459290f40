"""Scoring of predictions against hidden solutions: a metric registry and strict validation.

NumPy, pandas, pyarrow and scikit-learn only; nothing from the platform, so that
organisers can score on their own machines exactly as the platform does::

    solution = scorers.Solution.load("solution.csv", public_fraction=0.3, split_seed=42)
    result = scorers.get("roc_auc").score(solution, scorers.read_submission("predictions.csv", solution))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from scorers.errors import ValidationError
from scorers.io import read_table
from scorers.metrics import REGISTRY, Scorer, get
from scorers.result import ScoreResult
from scorers.solution import Solution
from scorers.submission import read_submission

__all__ = [
    "REGISTRY",
    "ScoreResult",
    "Scorer",
    "Solution",
    "ValidationError",
    "get",
    "read_submission",
    "read_table",
    "score_files",
]


def score_files(
    metric: str,
    solution: str | Path | bytes | BinaryIO,
    submission: str | Path | bytes | BinaryIO,
    *,
    id_column: str = "id",
    target_column: str | None = None,
    public_fraction: float = 0.3,
    split_seed: int = 0,
    **params: Any,
) -> ScoreResult:
    """Score a submission file against a solution file in one call."""
    scorer = get(metric, **params)
    loaded = Solution.load(
        solution,
        id_column=id_column,
        target_column=target_column,
        public_fraction=public_fraction,
        split_seed=split_seed,
    )
    return scorer.score(loaded, read_submission(submission, loaded))
