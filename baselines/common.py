"""What every baseline shares: reading the data, choosing the features, writing and submitting predictions.

A baseline module defines ``predict(train, test) -> scores`` (one score per test row, higher meaning more
likely bad) and a ``main(argv)`` that hands it to ``run``, for ``python -m baselines.NAME``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ID, TARGET = "id", "label"
NOT_FEATURES = {ID, TARGET, "run_number", "lumisection"}
DEFAULT_COMPETITION = "lumisection-anomaly-detection"

Predict = Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]


def features(frame: pd.DataFrame) -> list[str]:
    """The numeric columns a model may learn from: everything but the id, the label and where the row comes from."""
    return [c for c in frame.columns if c not in NOT_FEATURES and pd.api.types.is_numeric_dtype(frame[c])]


def matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The columns as floats, missing values as 0 (a lumisection without a monitoring element has none)."""
    return frame[columns].astype(float).fillna(0.0).to_numpy()


def submission(test: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """The submission table: the test ids and one score each."""
    return pd.DataFrame({ID: test[ID], TARGET: np.asarray(scores, dtype=float)})


def run(predict: Predict, description: str, argv: list[str] | None = None) -> int:
    """Download, predict, write, submit and wait: what a researcher does by hand, as one command."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("competition", nargs="?", default=DEFAULT_COMPETITION, help="the competition's slug")
    parser.add_argument("--data", type=Path, default=Path("data"), help="where to download the files")
    parser.add_argument("--out", type=Path, default=Path("submission.csv"), help="the submission file to write")
    parser.add_argument("--no-submit", action="store_true", help="only write the submission file")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="organisers: submit as the competition's baseline, listed under its name and never ranked",
    )
    args = parser.parse_args(argv)

    from playground_client import ApiError, Client  # the client: pip install ./client
    from playground_client.config import load

    login = load()
    if not login.url:
        print("Log in first: playground login --url URL --token TOKEN", file=sys.stderr)
        return 2
    client = Client(login.url, login.token)
    try:
        client.download(args.competition, args.data)
        train, test = pd.read_csv(args.data / "train.csv"), pd.read_csv(args.data / "test.csv")
        submission(test, predict(train, test)).to_csv(args.out, index=False)
        print(f"wrote {args.out} ({len(test)} rows)")
        if args.no_submit:
            return 0
        result = client.submit(args.competition, args.out, description=description, wait=True, baseline=args.baseline)
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if result.status != "scored":
        print(f"submission {result.id} {result.status}: {result.error}", file=sys.stderr)
        return 1
    print(f"submission {result.id} scored {result.public_score:.4f} on the public board")
    return 0
