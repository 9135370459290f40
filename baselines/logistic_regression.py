"""Supervised: a logistic regression on standardised monitoring-element summaries and conditions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from baselines.common import TARGET, features, matrix, run

DESCRIPTION = "Logistic regression on monitoring-element summaries"


def predict(train: pd.DataFrame, test: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """The probability of bad, from a class-balanced logistic regression."""
    columns = features(train)
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000, random_state=seed)
    )
    model.fit(matrix(train, columns), train[TARGET].to_numpy())
    return model.predict_proba(matrix(test, columns))[:, 1]


def main(argv: list[str] | None = None) -> int:
    """Download, predict, submit and wait for the score."""
    return run(predict, DESCRIPTION, argv)


if __name__ == "__main__":
    raise SystemExit(main())
