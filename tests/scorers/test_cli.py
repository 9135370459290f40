"""`python -m scorers`, as CONTRACT.md describes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scorers", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    usage = np.where(np.arange(n) % 4 == 0, "Public", "Private")
    pd.DataFrame({"id": range(n), "label": y, "Usage": usage}).to_csv(tmp_path / "solution.csv", index=False)
    scores = y * 0.4 + rng.random(n)
    pd.DataFrame({"id": range(n), "label": scores}).to_csv(tmp_path / "submission.csv", index=False)
    return tmp_path, y, scores, usage == "Public"


def test_score_prints_one_json_object(files):
    folder, y, scores, public = files
    result = run(
        "score",
        "--metric",
        "roc_auc",
        "--solution",
        str(folder / "solution.csv"),
        "--submission",
        str(folder / "submission.csv"),
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) >= {"metric", "version", "public", "private", "n_public", "n_private", "details"}
    assert body["public"] == pytest.approx(roc_auc_score(y[public], scores[public]), rel=1e-9)
    assert body["private"] == pytest.approx(roc_auc_score(y[~public], scores[~public]), rel=1e-9)
    assert (body["n_public"], body["n_private"]) == (100, 300)


def test_invalid_input_exits_2_with_a_message_and_no_traceback(files):
    folder, *_ = files
    pd.DataFrame({"id": [0, 0], "label": [0.1, 0.2]}).to_csv(folder / "bad.csv", index=False)
    result = run(
        "score",
        "--metric",
        "roc_auc",
        "--solution",
        str(folder / "solution.csv"),
        "--submission",
        str(folder / "bad.csv"),
    )
    assert result.returncode == 2
    assert "1 id is duplicated: 0" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "nope"], "unknown metric 'nope'"),
        (["--metric", "roc_auc", "--param", "fpr=0.1"], "roc_auc takes no parameter fpr"),
    ],
)
def test_bad_options_exit_2(files, args, message):
    folder, *_ = files
    result = run(
        "score", *args, "--solution", str(folder / "solution.csv"), "--submission", str(folder / "submission.csv")
    )
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_missing_file_exits_2(files):
    folder, *_ = files
    result = run(
        "score",
        "--metric",
        "roc_auc",
        "--solution",
        str(folder / "nope.csv"),
        "--submission",
        str(folder / "submission.csv"),
    )
    assert result.returncode == 2 and "nope.csv" in result.stderr and "Traceback" not in result.stderr


def test_list_prints_the_registry():
    result = run("list")
    assert result.returncode == 0
    lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    assert lines["roc_auc"][0] == "higher" and lines["rmse"][0] == "lower"
    assert lines["tpr_at_fpr"] == ["higher", "fpr=0.01"]
