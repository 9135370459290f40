"""Every refusal names the problem and, for row problems, the count and the first (up to 10) offending ids."""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import scorers
from scorers import ValidationError
from tests.scorers.files import as_csv, as_parquet

IDS = [f"ls{i:03d}" for i in range(30)]
SIDES = "Public, Private or Ignored"
EACH_SIDE = "each side of the split"


@pytest.fixture(scope="module")
def solution() -> scorers.Solution:
    """Thirty text ids, every third one bad (1), even rows public and odd rows private."""
    usage = ["Public" if i % 2 == 0 else "Private" for i in range(30)]
    frame = pd.DataFrame({"id": IDS, "label": [int(i % 3 == 0) for i in range(30)], "Usage": usage})
    return scorers.Solution.load(as_csv(frame))


def good() -> pd.DataFrame:
    return pd.DataFrame({"id": IDS, "label": np.linspace(0, 1, 30)})


def refused(content: bytes, solution: scorers.Solution, metric: str = "roc_auc") -> str:
    """The message of the ValidationError that scoring the content raises."""
    with pytest.raises(ValidationError) as error:
        scorers.get(metric).score(solution, content)
    return str(error.value)


def test_a_good_submission_passes(solution):
    assert scorers.get("roc_auc").score(solution, as_csv(good())).public is not None


EMPTY = {"nothing": b"", "blank": b" \n\n", "gzip": gzip.compress(b"", mtime=0)}


@pytest.mark.parametrize("content", EMPTY.values(), ids=EMPTY.keys())
def test_empty_file(solution, content):
    assert refused(content, solution) == "The submission is empty."


def test_header_without_rows(solution):
    assert refused(b"id,label\n", solution) == "The submission has a header but no rows."


def test_not_utf8_names_the_line(solution):
    message = refused("id,label\nls000,0.5\nlsé,0.1\n".encode("latin-1"), solution)
    assert message.startswith("The submission is not UTF-8 text: byte 21 (line 3) cannot be decoded.")
    assert "UTF-16 text, not UTF-8" in refused(as_csv(good()).decode().encode("utf-16"), solution)


def test_archives_are_refused_by_name(solution):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("submission.csv", as_csv(good()))
    assert "is a zip archive (or an Excel workbook)" in refused(archive.getvalue(), solution)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["id", "prediction"], "it has 'id', 'prediction': missing 'label'; unexpected 'prediction'."),
        (["id", "label", "extra"], "it has 'id', 'label', 'extra': unexpected 'extra'."),
        (["label"], "it has 'label': missing 'id'."),
        (["ID", "label"], "missing 'id'; unexpected 'ID' ('ID' should be 'id')."),
    ],
)
def test_wrong_columns_name_what_was_expected(solution, columns, expected):
    frame = pd.DataFrame({c: IDS if c.lower() == "id" else good()["label"] for c in columns})
    message = refused(as_csv(frame), solution)
    assert message.startswith("The submission must have exactly the columns 'id' and 'label';")
    assert message.endswith(expected)


def test_semicolons_get_a_hint(solution):
    assert "(columns must be separated by commas)" in refused(as_csv(good()).replace(b",", b";"), solution)


def test_duplicated_ids(solution):
    frame = pd.concat([good(), good().iloc[[3, 7]]])
    assert refused(as_csv(frame), solution) == "Each id must appear once; 2 ids are duplicated: ls003, ls007."


def test_missing_ids_listed_up_to_ten(solution):
    message = refused(as_csv(good().iloc[12:]), solution)
    expected = ", ".join(IDS[:10])
    more = " (and 2 more)."
    assert message == f"Every id of the test set needs a prediction; 12 ids are missing: {expected}{more}"


def test_unknown_ids(solution):
    frame = pd.concat([good(), pd.DataFrame({"id": ["zz1"], "label": [0.5]})])
    assert refused(as_csv(frame), solution) == "1 id is not in the test set: zz1."


def test_every_id_problem_is_named_at_once(solution):
    frame = good().copy()
    frame.loc[5, "id"] = "ls004"  # ls005 now missing, ls004 twice
    frame.loc[6, "id"] = "nope"  # ls006 missing, nope unknown
    assert refused(as_csv(frame), solution) == (
        "Each id must appear once; 1 id is duplicated: ls004. "
        "1 id is not in the test set: nope. "
        "Every id of the test set needs a prediction; 2 ids are missing: ls005, ls006."
    )


def test_non_numeric_predictions(solution):
    frame = good().astype({"label": object})
    frame.loc[[4, 9], "label"] = ["high", "0,5"]
    assert refused(as_csv(frame), solution) == (
        "The submission's column 'label' must hold numbers; 2 ids are not a number: ls004, ls009 "
        "(the first reads 'high')."
    )


@pytest.mark.parametrize("spelling", [b"nan", b"NaN", b"inf", b"-Infinity"])
def test_nan_and_infinite(solution, spelling):
    content = as_csv(good()).replace(b"ls002,0.06896551724137931", b"ls002," + spelling)
    content = content.replace(b"ls005,0.1724137931034483", b"ls005,inf")
    assert refused(content, solution) == (
        "The submission's column 'label' must hold finite numbers; 2 ids are NaN or infinite: ls002, ls005."
    )


def test_nan_in_parquet(solution):
    frame = good()
    frame.loc[7, "label"] = np.inf
    assert "1 id is NaN or infinite: ls007." in refused(as_parquet(frame), solution)


def test_empty_cells(solution):
    frame = good().astype({"label": object})
    frame.loc[6, "label"] = ""
    assert refused(as_csv(frame), solution) == (
        "The submission's column 'label' has empty cells; 1 id is without a value: ls006."
    )
    no_id = b"id,label\n,0.5\n" + as_csv(good())[9:]
    assert refused(no_id, solution).startswith("The submission has 1 row without an id (data row 1,")


def test_probabilities_outside_the_unit_interval(solution):
    frame = good()
    frame.loc[[1, 8], "label"] = [1.5, -0.2]
    assert refused(as_csv(frame), solution, metric="log_loss") == (
        "log_loss needs probabilities between 0 and 1; 2 ids are outside: ls001, ls008."
    )
    # Scores of a ranking metric need not be probabilities.
    assert scorers.get("roc_auc").score(solution, as_csv(frame)).public is not None


def test_one_class_on_a_side_is_refused_for_ranking_metrics():
    labels = [1, 0, 0, 0, 1, 0]  # the private (odd) rows hold only 0
    usage = ["Public", "Private"] * 3
    one_sided = scorers.Solution.load(as_csv(pd.DataFrame({"id": range(6), "label": labels, "Usage": usage})))
    with pytest.raises(ValidationError) as error:
        scorers.get("roc_auc").score(one_sided, np.zeros(6))
    assert str(error.value) == (
        f"The private part of the solution holds only the class 0: roc_auc needs both classes on {EACH_SIDE}."
    )
    assert scorers.get("accuracy").score(one_sided, np.zeros(6)).private == 1.0  # it needs no such thing


def test_at_most_ten_ids_are_listed(solution):
    frame = pd.concat([good(), good().iloc[:25]])
    message = refused(as_csv(frame), solution)
    assert message == f"Each id must appear once; 25 ids are duplicated: {', '.join(IDS[:10])} (and 15 more)."


@pytest.mark.parametrize("spacing", [1, 1000])
def test_integer_ids_are_checked_alike(spacing):
    """Dense ids are found through a lookup table, sparse ones by sorting: both name the same problems."""
    ids = np.arange(30) * spacing + 7
    solution = scorers.Solution.load(as_csv(pd.DataFrame({"id": ids, "label": np.arange(30) % 2})))
    shuffled = pd.DataFrame({"id": ids[::-1], "label": np.linspace(0, 1, 30)})
    assert scorers.get("roc_auc").score(solution, as_csv(shuffled)).public is not None
    twice = pd.concat([shuffled, shuffled.iloc[[4]]])
    assert refused(as_csv(twice), solution) == f"Each id must appear once; 1 id is duplicated: {ids[25]}."
    wrong = shuffled.iloc[:-1].copy()  # the last row holds the first id
    wrong.loc[0, "id"] = ids[-1] + 1  # in place of the last id
    assert refused(as_csv(wrong), solution) == (
        f"1 id is not in the test set: {ids[-1] + 1}. "
        f"Every id of the test set needs a prediction; 2 ids are missing: {ids[0]}, {ids[-1]}."
    )


def test_solution_problems_are_named_for_the_organiser():
    cases = {
        b"id,label\na,1\na,0\nb,1\n": "The solution's ids must be unique; 1 id is duplicated: a.",
        b"id,label,Usage\na,1,Public\nb,0,Secret\nc,1,\n": f"The solution's Usage column must say {SIDES}; "
        "2 ids are marked otherwise: b, c (found 'Secret', an empty cell).",
        b"key,label\na,1\n": "The solution has no id column 'id'; it has 'key', 'label'.",
        b"id,a,b\n1,0,1\n": "Name the target column: the solution has 2 columns besides the id, "
        "Usage and weight ('a', 'b').",
        b"id,label,weight\na,1,1.5\nb,0,-2\n": "The solution's weights must be finite and not negative; "
        "1 id is weighted otherwise: b.",
        b"id,label\na,1\nb,\n": "The solution's column 'label' has empty cells; 1 id is without a value: b.",
    }
    for content, message in cases.items():
        with pytest.raises(ValidationError) as error:
            scorers.Solution.load(content)
        assert str(error.value) == message


def test_solution_targets_must_suit_the_metric():
    three_classes = scorers.Solution.load(b"id,label\na,1\nb,2\nc,0\nd,2\n", public_fraction=1)
    with pytest.raises(ValidationError, match="needs targets of 0 or 1; in the solution, 2 ids are labelled"):
        scorers.get("roc_auc").score(three_classes, np.zeros(4))
    assert scorers.get("rmse").score(three_classes, np.zeros(4)).public == pytest.approx(1.5)
    constant = scorers.Solution.load(b"id,label\na,3\nb,3\n", public_fraction=1)
    with pytest.raises(ValidationError, match="holds only the target 3: r2 needs targets that vary"):
        scorers.get("r2").score(constant, np.zeros(2))
    weightless = scorers.Solution.load(b"id,label,weight\na,1,0\nb,0,0\n", public_fraction=1)
    with pytest.raises(ValidationError, match=r"The public part of the solution has a total weight of 0\."):
        scorers.get("accuracy").score(weightless, np.zeros(2))


def test_predictions_given_as_an_array_are_checked_too(solution):
    predictions = np.linspace(0, 1, 30)
    predictions[3] = np.nan
    with pytest.raises(ValidationError, match="1 id is NaN or infinite: ls003"):
        scorers.get("roc_auc").score(solution, predictions)


def test_validate_submission_checks_without_scoring(solution):
    predictions = scorers.validate_submission(as_csv(good().iloc[::-1]), solution)
    np.testing.assert_array_equal(predictions, good()["label"].to_numpy())
    outside = good().assign(label=np.linspace(0, 2, 30))
    scorers.validate_submission(as_csv(outside), solution)  # no metric, no probability check
    with pytest.raises(ValidationError, match="needs probabilities between 0 and 1; 15 ids are outside"):
        scorers.validate_submission(as_csv(outside), solution, scorers.get("log_loss"))


def test_parquet_with_unusable_ids_is_refused(solution):
    table = pa.table({"id": pa.array([[1]] * 30), "label": np.zeros(30)})
    buffer = io.BytesIO()
    pa.parquet.write_table(table, buffer)
    message = refused(buffer.getvalue(), solution)
    assert message.startswith("The submission's ids in 'id' must be numbers or text, not list")
