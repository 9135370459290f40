"""Reading a submission and lining its predictions up with the solution's rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from scorers.errors import ValidationError
from scorers.hashing import as_text
from scorers.io import Source, TooManyColumns, read_table
from scorers.solution import Solution
from scorers.validation import check_columns, ids_of, numbers_of, require_finite

# Room beyond the exact shape, so that a file that is merely wrong (a column too many, ids repeated) is told
# what is wrong with it, by name; a file far wider or longer is refused before it is parsed.
EXTRA_COLUMNS = 8
EXTRA_ROWS = 1000


def read_submission(source: Source, solution: Solution, *, max_bytes: int | None = None) -> np.ndarray:
    """The submission's predictions in the solution's row order; ValidationError says what is wrong.

    max_bytes bounds the file once decompressed; its columns and rows are bounded by the solution's shape.
    """
    expected = [solution.id_column, solution.target_column]
    try:
        table = read_table(
            source,
            what="submission",
            text_columns=[solution.id_column],
            max_bytes=max_bytes,
            max_columns=len(expected) + EXTRA_COLUMNS,
            max_rows=2 * solution.n_rows + EXTRA_ROWS,
        )
    except TooManyColumns as error:
        raise ValidationError(
            f"The submission has {error.counted} columns; "
            f"it must have exactly the columns {' and '.join(map(repr, expected))}."
        ) from None
    return predictions_of(table, solution)


def predictions_of(table: pa.Table, solution: Solution) -> np.ndarray:
    """A submission table's predictions in the solution's row order, once every check has passed."""
    check_columns(table.column_names, [solution.id_column, solution.target_column], "submission")
    ids = ids_of(table, solution.id_column, "submission")
    rows = _rows(ids, solution)
    predictions = numbers_of(table, solution.target_column, ids, "submission")
    require_finite(predictions, ids, "submission", solution.target_column)
    if rows is None:
        return predictions
    aligned = np.empty(len(predictions), dtype=np.float64)
    aligned[rows] = predictions
    return aligned


def _rows(ids: pa.Array, solution: Solution) -> np.ndarray | None:
    """The solution row of each submission row; None when both list the same ids in the same order."""
    # Ids are compared as integers when both sides hold integers, else as text.
    if not (pa.types.is_integer(ids.type) and pa.types.is_integer(solution.ids.type)):
        ids = as_text(ids)
    same_type = ids.type == solution.ids.type
    if same_type and len(ids) == solution.n_rows and ids.equals(solution.ids):
        return None  # the common case: the sample submission's order, kept
    return solution.index(ids.type).rows(ids)
