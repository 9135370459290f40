"""The floor every model must beat: a random score per lumisection."""

from __future__ import annotations

import numpy as np
import pandas as pd

from baselines.common import run

DESCRIPTION = "Random baseline"


def predict(train: pd.DataFrame, test: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """A uniform random score per test row (the same for the same seed)."""
    return np.random.default_rng(seed).random(len(test))


def main(argv: list[str] | None = None) -> int:
    """Download, predict, submit and wait for the score."""
    return run(predict, DESCRIPTION, argv)


if __name__ == "__main__":
    raise SystemExit(main())
