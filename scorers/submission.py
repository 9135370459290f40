"""Reading a submission and lining its predictions up with the solution's rows."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scorers.errors import ValidationError, listing
from scorers.io import read_table
from scorers.solution import Solution, duplicated_ids, numeric_column, read_ids


def comparable_ids(solution_ids: pa.Array, submission_ids: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Both id columns as integers when both are integers, else both as text."""
    if pa.types.is_integer(solution_ids.type) and pa.types.is_integer(submission_ids.type):
        return solution_ids.cast(pa.int64()), submission_ids.cast(pa.int64())
    return solution_ids.cast(pa.string()), submission_ids.cast(pa.string())


def _check_columns(names: list[str], solution: Solution) -> None:
    expected = [solution.id_column, solution.target_column]
    if sorted(names) == sorted(expected):
        return
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(map(repr, missing))}")
    if extra:
        problems.append(f"unexpected {', '.join(map(repr, extra))}")
    raise ValidationError(
        f"The submission must have exactly the columns {expected[0]!r} and {expected[1]!r}; "
        f"it has {', '.join(map(repr, names))} ({'; '.join(problems)})."
    )


def _positions(solution_ids: pa.Array, ids: pa.Array) -> np.ndarray | None:
    """Each submission row's row in the solution; None when both already list the same ids in the same order."""
    if len(ids) == len(solution_ids) and ids.equals(solution_ids):
        return None
    duplicated = duplicated_ids(ids)
    if duplicated:
        raise ValidationError("Each id must appear once; " + listing(duplicated, "duplicated"))
    positions = pc.index_in(ids, value_set=solution_ids)
    if positions.null_count:
        raise ValidationError(
            listing(ids.filter(positions.is_null()).to_pylist(), "not in the test set").capitalize() + "."
        )
    positions = positions.to_numpy(zero_copy_only=False)
    if len(positions) < len(solution_ids):
        present = np.zeros(len(solution_ids), dtype=bool)
        present[positions] = True
        missing = solution_ids.filter(pa.array(~present)).to_pylist()
        raise ValidationError("Every id of the test set needs a prediction; " + listing(missing, "missing"))
    return positions


def read_submission(source: str | Path | bytes | BinaryIO, solution: Solution) -> np.ndarray:
    """The submission's predictions as floats in the solution's row order; ValidationError names what is wrong."""
    table = read_table(source, what="submission")
    _check_columns(table.column_names, solution)
    ids = read_ids(table, solution.id_column, "submission")
    solution_ids, ids = comparable_ids(solution.ids, ids)
    positions = _positions(solution_ids, ids)
    predictions = numeric_column(table, solution.target_column, ids, "submission")
    bad = ~np.isfinite(predictions)
    if bad.any():
        raise ValidationError(
            "Predictions must be finite numbers; " + listing(ids.filter(pa.array(bad)).to_pylist(), "NaN or infinite")
        )
    if positions is None:
        return predictions
    aligned = np.empty(len(solution_ids), dtype=np.float64)
    aligned[positions] = predictions
    return aligned
