"""Reading CSV, gzip CSV and Parquet, told apart by content, from paths, file objects or bytes; and ids."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import scorers
from scorers import ValidationError
from tests.scorers.files import as_csv, as_gzip, as_parquet

IDS = [f"run315257_ls{i:04d}" for i in range(40)]
LABELS = np.arange(40) % 4 == 0


@pytest.fixture(scope="module")
def solution() -> scorers.Solution:
    frame = pd.DataFrame({"id": IDS, "label": LABELS.astype(int)})
    return scorers.Solution.load(as_csv(frame), public_fraction=0.5)


@pytest.fixture(scope="module")
def shuffled() -> pd.DataFrame:
    """Predictions in an order of their own."""
    scores = np.linspace(0, 1, 40) + LABELS * 0.3
    return pd.DataFrame({"id": IDS, "label": scores}).sample(frac=1, random_state=3)


@pytest.mark.parametrize("write", [as_csv, as_gzip, as_parquet])
def test_each_format_is_recognised_by_its_content_whatever_the_name(tmp_path, solution, shuffled, write):
    expected = scorers.get("roc_auc").score(solution, as_csv(shuffled))
    path = tmp_path / "predictions.txt"  # a name that says nothing true
    path.write_bytes(write(shuffled))
    for source in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        assert scorers.get("roc_auc").score(solution, source) == expected


def test_solution_reads_from_any_format_alike(shuffled):
    frame = pd.DataFrame({"id": IDS, "label": LABELS.astype(int)})
    loaded = [scorers.Solution.load(write(frame)) for write in (as_csv, as_gzip, as_parquet)]
    for other in loaded[1:]:
        assert other.ids.equals(loaded[0].ids) and (other.public == loaded[0].public).all()
        assert scorers.get("roc_auc").score(other, as_csv(shuffled)) == scorers.get("roc_auc").score(
            loaded[0], as_csv(shuffled)
        )


def test_byte_order_mark_and_windows_line_endings_are_fine(solution, shuffled):
    excel = b"\xef\xbb\xbf" + as_csv(shuffled).replace(b"\n", b"\r\n")
    scorer = scorers.get("roc_auc")
    assert scorer.score(solution, excel) == scorer.score(solution, as_csv(shuffled))


def test_a_table_can_be_scored_as_it_is(solution, shuffled):
    table = pa.Table.from_pandas(shuffled, preserve_index=False)
    scorer = scorers.get("roc_auc")
    assert scorer.score(solution, table) == scorer.score(solution, as_csv(shuffled))


def test_integer_ids_compare_as_numbers_between_csv_and_parquet():
    solution = scorers.Solution.load(b"id,label,Usage\n1,0,Public\n2,1,Public\n3,0,Public\n4,1,Public\n")
    frame = pd.DataFrame({"id": np.array([4, 3, 2, 1], dtype="int32"), "label": [0.9, 0.1, 0.8, 0.2]})
    assert scorers.get("roc_auc").score(solution, as_parquet(frame)).public == 1.0
    assert scorers.get("roc_auc").score(solution, b"id,label\n004,0.9\n3,0.1\n2,0.8\n1,0.2\n").public == 1.0


def test_ids_compare_as_text_unless_both_sides_are_integers():
    solution = scorers.Solution.load(b"id,label,Usage\n1,0,Public\n2,1,Public\n", public_fraction=1)
    text_ids = pd.DataFrame({"id": ["2", "1"], "label": [0.9, 0.1]})  # text in Parquet, equal as text
    assert scorers.get("roc_auc").score(solution, as_parquet(text_ids)).public == 1.0
    padded = pd.DataFrame({"id": ["02", "1"], "label": [0.9, 0.1]})  # text that is another text
    with pytest.raises(ValidationError, match=r"1 id is not in the test set: 02\..*1 id is missing: 2"):
        scorers.get("roc_auc").score(solution, as_parquet(padded))
    frame = pd.DataFrame({"id": ["1", "2"], "label": [0, 1]})
    text_solution = scorers.Solution.load(as_parquet(frame), public_fraction=1)
    assert scorers.get("roc_auc").score(text_solution, b"id,label\n2,0.9\n1,0.1\n").public == 1.0


def test_ids_keep_the_text_they_were_written_with():
    """Ids a CSV reader would turn into floats or dates stay as written, on both sides."""
    ids = ["1e3", "2024-01-01", "99999999999999999999", "007"]
    frame = pd.DataFrame({"id": ids, "label": [0, 1, 0, 1]})
    solution = scorers.Solution.load(as_csv(frame), public_fraction=1)
    assert solution.ids.to_pylist() == ids
    submission = b"id,label\n007,0.9\n2024-01-01,0.8\n1e3,0.1\n99999999999999999999,0.2\n"
    assert scorers.get("roc_auc").score(solution, submission).public == 1.0
    with pytest.raises(ValidationError, match="1 id is not in the test set: 1000"):
        scorers.get("roc_auc").score(solution, submission.replace(b"1e3", b"1000"))


def test_parquet_types_are_taken_in_stride():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "label": [0, 1, 0, 1]})
    solution = scorers.Solution.load(as_csv(frame), public_fraction=1)
    table = pa.table(
        {
            "id": pa.array(["d", "c", "b", "a"]).dictionary_encode(),  # a pandas category
            "label": pa.array([0.9, 0.1, 0.8, 0.2], pa.float32()),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    assert scorers.get("roc_auc").score(solution, buffer.getvalue()).public == 1.0
