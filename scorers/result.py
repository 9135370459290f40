"""What scoring produces."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ScoreResult:
    """Public and private scores (None for a side without rows), their row counts, and details for charts.

    details holds, per side ("public", "private"), what a chart of the metric needs: ROC and
    precision-recall curves of at most 200 points for ranking metrics, a confusion matrix for metrics of
    decisions, calibration bins for log_loss, error quantiles for regression metrics.
    """

    metric: str
    version: str
    public: float | None
    private: float | None
    n_public: int
    n_private: int
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON-serialisable form, as `python -m scorers score` prints it."""
        return asdict(self)
