"""Every refusal names the problem and, for row problems, the count and the first offending ids."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

import scorers
from scorers import ValidationError

IDS = [f"ls{i:03d}" for i in range(30)]


@pytest.fixture
def solution():
    y = np.arange(30) % 3 == 0
    frame = pd.DataFrame({"id": IDS, "label": y.astype(int)})
    return scorers.Solution.load(frame.to_csv(index=False).encode(), public_fraction=0.5, split_seed=1)


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def good() -> pd.DataFrame:
    return pd.DataFrame({"id": IDS, "label": np.linspace(0, 1, 30)})


def refused(content: bytes, solution, metric: str = "roc_auc") -> str:
    with pytest.raises(ValidationError) as error:
        scorers.get(metric).score(solution, scorers.read_submission(content, solution))
    return str(error.value)


def test_empty_file(solution):
    assert refused(b"", solution) == "The submission is empty."
    assert refused(b"id,label\n", solution) == "The submission has a header but no rows."


def test_not_utf8(solution):
    message = refused("id,label\nls000,0.5\nlsé,0.1\n".encode("latin-1"), solution)
    assert "not UTF-8" in message and "line 3" in message


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["id", "prediction"], "missing 'label'; unexpected 'prediction'"),
        (["id", "label", "extra"], "unexpected 'extra'"),
        (["label"], "missing 'id'"),
    ],
)
def test_wrong_columns_name_what_was_expected(solution, columns, expected):
    frame = pd.DataFrame({c: good()["label"] if c != "id" else IDS for c in columns})
    message = refused(csv(frame), solution)
    assert "must have exactly the columns 'id' and 'label'" in message and expected in message


def test_duplicated_ids(solution):
    frame = pd.concat([good(), good().iloc[[3, 7]]])
    assert refused(csv(frame), solution) == "Each id must appear once; 2 ids are duplicated: ls003, ls007"


def test_missing_ids_listed_up_to_ten(solution):
    message = refused(csv(good().iloc[12:]), solution)
    assert message.startswith("Every id of the test set needs a prediction; 12 ids are missing: ls000, ls001")
    assert "ls009 (and 2 more)" in message


def test_unknown_ids(solution):
    frame = pd.concat([good(), pd.DataFrame({"id": ["zz1"], "label": [0.5]})])
    assert refused(csv(frame), solution) == "1 id is not in the test set: zz1."


def test_non_numeric_predictions(solution):
    frame = good().astype({"label": object})
    frame.loc[4, "label"] = "high"
    message = refused(csv(frame), solution)
    assert "must hold numbers" in message and "1 id is not a number: ls004" in message


def test_nan_and_infinite(solution):
    frame = good()
    frame.loc[[2, 5], "label"] = [np.nan, np.inf]
    content = csv(frame).replace(b",\n", b",nan\n")
    message = refused(content, solution)
    assert "2 ids are NaN or infinite: ls002, ls005" in message


def test_empty_cells(solution):
    frame = good().astype({"label": object})
    frame.loc[6, "label"] = ""
    assert "has empty cells: 1 id is without a value: ls006" in refused(csv(frame), solution)
    assert "1 row without an id (line 2)" in refused(b"id,label\n,0.5\n" + csv(good())[9:], solution)


def test_probabilities_outside_the_unit_interval(solution):
    frame = good()
    frame.loc[[1, 8], "label"] = [1.5, -0.2]
    message = refused(csv(frame), solution, metric="log_loss")
    assert "needs probabilities between 0 and 1" in message and "ls001, ls008" in message
    assert scorers.get("roc_auc").score(solution, scorers.read_submission(csv(frame), solution)).public is not None


def test_one_class_solution_is_refused_for_ranking_metrics():
    one_class = scorers.Solution.load(csv(pd.DataFrame({"id": IDS, "label": 0})))
    with pytest.raises(ValidationError, match="holds only the class 0: roc_auc needs both classes"):
        scorers.get("roc_auc").score(one_class, np.zeros(30))


def test_solution_problems_are_named():
    with pytest.raises(ValidationError, match="The solution's ids must be unique; 1 id is duplicated: a"):
        scorers.Solution.load(b"id,label\na,1\na,0\nb,1\n")
    with pytest.raises(ValidationError, match="Usage column must be Public, Private or Ignored; 1 id is marked"):
        scorers.Solution.load(b"id,label,Usage\na,1,Public\nb,0,Secret\n")
    with pytest.raises(ValidationError, match="Name the target column"):
        scorers.Solution.load(b"id,a,b\n1,0,1\n")
    with pytest.raises(ValidationError, match="Weights must be finite and not negative; 1 id is weighted otherwise: b"):
        scorers.Solution.load(b"id,label,weight\na,1,1.5\nb,0,-2\n")


def test_gzip_and_parquet_submissions_read_alike(solution):
    frame = good().sample(frac=1, random_state=3)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    results = {
        kind: scorers.get("roc_auc").score(solution, scorers.read_submission(content, solution)).public
        for kind, content in {
            "csv": csv(frame),
            "gzip": gzip.compress(csv(frame)),
            "parquet": buffer.getvalue(),
        }.items()
    }
    assert results["csv"] == results["gzip"] == results["parquet"]


def test_integer_ids_match_across_formats():
    solution = scorers.Solution.load(b"id,label,Usage\n1,0,Public\n2,1,Public\n3,0,Public\n4,1,Public\n")
    buffer = io.BytesIO()
    pd.DataFrame({"id": np.array([4, 3, 2, 1], dtype="int32"), "label": [0.9, 0.1, 0.8, 0.2]}).to_parquet(buffer)
    assert scorers.get("roc_auc").score(solution, scorers.read_submission(buffer.getvalue(), solution)).public == 1.0
