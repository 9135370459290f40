"""Reading a source's scores: the whole file or nothing, naming the first offending rows."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.services.errors import Refused
from app.services.suggestions.source_files import TaskLumisections, read_source_csv, scores_from_submission

# Run 1000 has lumisections 1-100; run 1001 has 1-50 and 60-70 (51-59 were never recorded).
TASK = TaskLumisections.from_ranges([(1001, 60, 70), (1000, 1, 100), (1001, 1, 50)])


def csv(*rows: str, header: str = "run,lumisection,score") -> bytes:
    return "\n".join([header, *rows]).encode() + b"\n"


def refusal(data, task: TaskLumisections = TASK) -> str:
    with pytest.raises(Refused) as caught:
        read_source_csv(data, task)
    assert caught.value.status == 400
    return caught.value.message


def test_a_valid_file_reads_sorted_by_run_and_lumisection():
    scores = read_source_csv(csv("1001,65,0.25", "1000,2,1", "1000,1,0", "1001,3,0.5"), TASK)
    assert scores.run.tolist() == [1000, 1000, 1001, 1001]
    assert scores.lumisection.tolist() == [1, 2, 3, 65]
    assert scores.score.tolist() == [0.0, 1.0, 0.5, 0.25]
    assert (scores.run.dtype, scores.lumisection.dtype, scores.score.dtype) == (np.int64, np.int64, np.float64)


def test_columns_may_come_in_any_order_gzip_compressed_or_as_parquet():
    assert read_source_csv(csv("0.5,1,1000", header="score,lumisection,run"), TASK).score.tolist() == [0.5]
    assert read_source_csv(gzip.compress(csv("1000,1,0.5")), TASK).lumisection.tolist() == [1]
    buffer = io.BytesIO()
    pq.write_table(pa.table({"run": [1000, 1001], "lumisection": [7, 70], "score": [0.1, 0.9]}), buffer)
    assert read_source_csv(buffer.getvalue(), TASK).lumisection.tolist() == [7, 70]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"run,lumisection,score\n", "no rows"),
        (csv("1000,1", header="run,lumisection"), "needs exactly the columns run, lumisection and score"),
        (
            csv("1000,1,0.5,x", header="run,lumisection,score,comment"),
            "it has 'run', 'lumisection', 'score', 'comment'",
        ),
    ],
)
def test_an_empty_file_or_wrong_columns_are_refused(data, message):
    assert message in refusal(data)


def test_cells_that_are_not_numbers_are_named_by_row_run_and_lumisection():
    message = refusal(csv("1000,1,0.5", "1000,2,abc", "1000,3,", "x,4,0.5", "1000,5.5,0.5", "1000,6,nan"))
    assert message == (
        "5 rows hold a cell that is not a number: row 2 (1000:2), row 3 (1000:3), row 4 (x:4), row 5 (1000:5.5), "
        "row 6 (1000:6)"
    )


def test_scores_outside_zero_to_one_are_refused():
    message = refusal(csv("1000,1,1.5", "1000,2,1", "1000,3,-0.01", "1000,4,inf", "1000,5,0"))
    assert message == "3 rows have a score outside [0, 1]: row 1 (1000:1), row 3 (1000:3), row 4 (1000:4)"


def test_rows_outside_the_tasks_lumisections_are_refused():
    message = refusal(csv("1000,100,0.5", "1000,101,0.5", "1001,55,0.5", "999,1,0.5", "1001,70,0.5", "1000,0,0.1"))
    assert message == (
        "4 rows name a lumisection of none of the task's runs: row 2 (1000:101), row 3 (1001:55), row 4 (999:1), "
        "row 6 (1000:0)"
    )


def test_a_repeated_lumisection_is_refused_at_its_later_rows():
    message = refusal(csv("1000,5,0.5", "1000,4,0.5", "1000,5,0.7", "1000,4,0.5", "1000,5,0.1"))
    assert message == "3 rows repeat a lumisection of an earlier row: row 3 (1000:5), row 4 (1000:4), row 5 (1000:5)"


def test_every_problem_is_reported_at_once_with_at_most_ten_rows_each():
    rows = [f"1000,{n},2" for n in range(1, 31)] + ["1000,31,x", "1000,31,0.5", "1000,31,0.5"]
    message = refusal(csv(*rows))
    assert "30 rows have a score outside [0, 1]: row 1 (1000:1), row 2 (1000:2)" in message
    assert "row 10 (1000:10) (and 20 more)" in message and "row 11" not in message
    assert "1 row holds a cell that is not a number: row 31 (1000:31)" in message
    assert "1 row repeats a lumisection of an earlier row: row 33 (1000:31)" in message


def test_more_rows_than_the_task_has_lumisections_are_refused_before_parsing():
    small = TaskLumisections.from_ranges([(1000, 1, 2)])
    assert "more than the 2 allowed" in refusal(csv("1000,1,0.5", "1000,2,0.5", "1000,2,0.5"), small)


def test_a_task_without_lumisections_accepts_no_row():
    empty = TaskLumisections.from_ranges([])
    assert empty.size == 0 and not empty.contains(np.array([1000]), np.array([1])).any()


def test_a_submission_with_run_lumisection_ids_becomes_scores():
    ids = pa.array(["1001_65", "1000_2", "1000_1"])
    scores = scores_from_submission(ids, np.array([0.25, 1.0, 0.0]), TASK)
    assert list(zip(scores.run.tolist(), scores.lumisection.tolist(), scores.score.tolist(), strict=True)) == [
        (1000, 1, 0.0),
        (1000, 2, 1.0),
        (1001, 65, 0.25),
    ]


def test_a_submission_is_refused_for_ids_that_are_not_run_lumisection_or_outside_the_task():
    ids = pa.array(["1000_1", "ls00017", "1000_1_2", "999_1", "1001_55", "1000_3"])
    with pytest.raises(Refused) as caught:
        scores_from_submission(ids, np.array([0.5, 0.5, 0.5, 0.5, 0.5, 1.2]), TASK)
    assert caught.value.problems == [
        "2 rows have an id other than {run}_{lumisection}: row 2 (ls00017), row 3 (1000_1_2)",
        "1 row has a score outside [0, 1]: row 6 (1000_3)",
        "2 rows name a lumisection of none of the task's runs: row 4 (999_1), row 5 (1001_55)",
    ]
