"""Unsupervised: an isolation forest learns what good lumisections look like and scores how unusual others are."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler

from baselines.common import TARGET, features, matrix, run

DESCRIPTION = "Isolation forest on monitoring-element summaries"


def predict(train: pd.DataFrame, test: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """Fit on the good training lumisections (all of them if there are no labels); higher means more anomalous."""
    columns = features(train)
    good = train[train[TARGET] == 0] if TARGET in train else train
    scaler = StandardScaler().fit(matrix(good, columns))
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(scaler.transform(matrix(good, columns)))
    return -forest.score_samples(scaler.transform(matrix(test, columns)))


def main(argv: list[str] | None = None) -> int:
    """Download, predict, submit and wait for the score."""
    return run(predict, DESCRIPTION, argv)


if __name__ == "__main__":
    raise SystemExit(main())
