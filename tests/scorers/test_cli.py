"""`python -m scorers score` and `python -m scorers list`, as CONTRACT.md describes them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import scorers
from scorers.cli import main

REPO = Path(__file__).resolve().parents[2]
KEYS = {"metric", "version", "public", "private", "n_public", "n_private", "details"}


def run(*args: str) -> subprocess.CompletedProcess:
    """`python -m scorers` in a process of its own, as people and scripts call it."""
    command = [sys.executable, "-m", "scorers", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def bundle(tmp_path):
    """The scoring files of a competition bundle: a solution with Usage, a sample and a real submission."""
    rng = np.random.default_rng(1)
    n = 400
    ids = [f"ls{i:05d}" for i in range(n)]
    y = (rng.random(n) < 0.3).astype(int)
    usage = np.where(np.arange(n) % 4 == 0, "Public", "Private")
    scores = y * 0.4 + rng.random(n)
    pd.DataFrame({"id": ids, "label": y, "Usage": usage}).to_csv(tmp_path / "solution.csv", index=False)
    pd.DataFrame({"id": ids, "label": 0.5}).to_csv(tmp_path / "sample_submission.csv", index=False)
    pd.DataFrame({"id": ids, "label": scores}).iloc[::-1].to_csv(tmp_path / "submission.csv", index=False)
    return tmp_path, y, scores, usage == "Public"


def score_args(folder: Path, submission: str = "submission.csv", *extra: str) -> list[str]:
    solution, predictions = str(folder / "solution.csv"), str(folder / submission)
    return ["score", "--metric", "roc_auc", "--solution", solution, "--submission", predictions, *extra]


def test_score_prints_one_json_object(bundle):
    folder, y, scores, public = bundle
    result = run(*score_args(folder))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == KEYS and (body["metric"], body["version"]) == ("roc_auc", "2")
    assert body["public"] == pytest.approx(roc_auc_score(y[public], scores[public]), rel=1e-9)
    assert body["private"] == pytest.approx(roc_auc_score(y[~public], scores[~public]), rel=1e-9)
    assert (body["n_public"], body["n_private"]) == (100, 300)
    assert len(body["details"]["public"]["roc"]["fpr"]) <= 200


def test_invalid_input_exits_2_with_the_message_and_no_traceback(bundle):
    folder, *_ = bundle
    pd.DataFrame({"id": ["ls00000", "ls00000"], "label": [0.1, 0.2]}).to_csv(folder / "bad.csv", index=False)
    result = run(*score_args(folder, "bad.csv"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: Each id must appear once; 1 id is duplicated: ls00000.")
    assert "Traceback" not in result.stderr


def test_sample_submission_of_the_bundle_scores_one_half(bundle, capsys):
    folder, *_ = bundle
    assert main(score_args(folder, "sample_submission.csv")) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["public"], body["private"]) == (0.5, 0.5)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--metric", "nope"], "error: unknown metric 'nope'; known metrics: roc_auc, "),
        (["--metric", "roc_auc", "--param", "fpr=0.1"], "error: roc_auc takes no parameter fpr"),
        (["--metric", "tpr_at_fpr", "--param", "fpr=2"], "error: tpr_at_fpr's fpr must lie in [0, 1), not 2"),
    ],
)
def test_bad_options_exit_2_with_a_message(bundle, capsys, argv, message):
    folder, *_ = bundle
    files = ["--solution", str(folder / "solution.csv"), "--submission", str(folder / "submission.csv")]
    assert main(["score", *argv, *files]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_missing_file_exits_2_naming_it(bundle, capsys):
    folder, *_ = bundle
    assert main(score_args(folder, "nope.csv")) == 2
    assert capsys.readouterr().err == f"error: cannot read {folder / 'nope.csv'}: No such file or directory\n"


def test_arguments_argparse_refuses_exit_2(bundle, capsys):
    folder, *_ = bundle
    with pytest.raises(SystemExit) as exit_status:
        main(score_args(folder, "submission.csv", "--public-fraction", "1.5"))
    assert exit_status.value.code == 2 and "1.5 is not between 0 and 1" in capsys.readouterr().err


def test_split_options_and_column_names(tmp_path, capsys):
    rng = np.random.default_rng(2)
    y = (rng.random(200) < 0.5).astype(int)
    solution = pd.DataFrame({"lumi": range(200), "bad": y, "note": "x"})
    solution.to_csv(tmp_path / "solution.csv", index=False)
    predictions = pd.DataFrame({"lumi": range(200), "bad": y * 0.5 + rng.random(200)})
    predictions.to_csv(tmp_path / "p.csv", index=False)
    options = ["--id-column", "lumi", "--target-column", "bad"]
    options += ["--public-fraction", "0.25", "--split-seed", "9"]
    files = ["--solution", str(tmp_path / "solution.csv"), "--submission", str(tmp_path / "p.csv")]
    assert main(["score", "--metric", "tpr_at_fpr", "--param", "fpr=0.1", *files, *options]) == 0
    body = json.loads(capsys.readouterr().out)
    expected = scorers.score_files(
        "tpr_at_fpr", tmp_path / "solution.csv", tmp_path / "p.csv", id_column="lumi", target_column="bad",
        public_fraction=0.25, split_seed=9, fpr=0.1,
    )  # fmt: skip
    assert body == json.loads(json.dumps(expected.as_json()))
    assert 30 < body["n_public"] < 70 and body["n_public"] + body["n_private"] == 200


def test_a_side_without_rows_is_null(bundle, capsys):
    folder, *_ = bundle
    pd.DataFrame({"id": range(10), "label": [0, 1] * 5}).to_csv(folder / "solution.csv", index=False)
    pd.DataFrame({"id": range(10), "label": np.linspace(0, 1, 10)}).to_csv(folder / "p.csv", index=False)
    assert main(score_args(folder, "p.csv", "--public-fraction", "0")) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["public"] is None and body["n_public"] == 0 and body["private"] == 0.6


def test_list_prints_the_registry():
    result = run("list")
    assert result.returncode == 0
    lines = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()}
    assert list(lines) == list(scorers.REGISTRY)
    assert lines["roc_auc"] == ["higher", "-"] and lines["rmse"] == ["lower", "-"]
    assert lines["tpr_at_fpr"] == ["higher", "fpr=0.01"] and lines["accuracy"] == ["higher", "threshold=0.5"]


def test_list_as_json(capsys):
    assert main(["list", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in described] == list(scorers.REGISTRY)
    assert described[3] == scorers.get("fpr_at_tpr").as_json() and described[3]["direction"] == "lower"
