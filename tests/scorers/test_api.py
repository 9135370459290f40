"""The entry points the platform's worker and organisers call."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import scorers
from tests.scorers.files import as_csv, as_gzip


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(6)
    n = 1000
    y = (rng.random(n) < 0.2).astype(int)
    pd.DataFrame({"id": np.arange(n) * 3, "label": y, "weight": rng.random(n) + 0.5}).to_csv(
        tmp_path / "solution.csv", index=False
    )
    submissions = []
    for k in range(3):
        frame = pd.DataFrame({"id": np.arange(n) * 3, "label": y * k * 0.2 + rng.random(n)}).sample(frac=1)
        submissions.append(as_gzip(frame))
    return tmp_path / "solution.csv", submissions


def test_score_files_equals_loading_once_and_scoring_each(files):
    solution_path, submissions = files
    # Loaded once, as the worker caches it.
    solution = scorers.Solution.load(solution_path, public_fraction=0.4, split_seed=5)
    scorer = scorers.get("tpr_at_fpr", fpr=0.05)
    for content in submissions:
        split = {"public_fraction": 0.4, "split_seed": 5}
        at_once = scorers.score_files("tpr_at_fpr", solution_path, content, **split, fpr=0.05)
        assert scorer.score(solution, io.BytesIO(content)) == at_once
        assert scorer.score(solution, scorers.read_submission(io.BytesIO(content), solution)) == at_once
    assert at_once.n_public + at_once.n_private == 1000 and 300 < at_once.n_public < 500


def test_better_predictions_score_better(files):
    solution_path, submissions = files
    solution = scorers.Solution.load(solution_path)
    scores = [scorers.get("average_precision").score(solution, content).private for content in submissions]
    assert scores == sorted(scores)


def test_errors_are_validation_errors_a_researcher_can_act_on(files):
    solution_path, _ = files
    solution = scorers.Solution.load(solution_path)
    with pytest.raises(scorers.ValidationError, match="Every id of the test set needs a prediction; 999 ids"):
        scorers.get("roc_auc").score(solution, as_csv(pd.DataFrame({"id": [0], "label": [0.5]})))
    with pytest.raises(scorers.UnknownMetricError, match="unknown metric 'auc'"):
        scorers.score_files("auc", solution_path, b"id,label\n0,1\n")
