"""Checks of columns and values shared by solutions and submissions; each refusal names the rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scorers.errors import MAX_LISTED, MAX_QUOTED, ValidationError, clip, listing
from scorers.errors import names as quoted


def check_columns(names: list[str], expected: list[str], what: str) -> None:
    """Refuse a table whose columns are not exactly the expected ones (in any order), naming the change."""
    if sorted(names) == sorted(expected):
        return
    missing = [name for name in expected if name not in names]
    extra = [name for name in names if name not in expected]
    problems = []
    if missing:
        problems.append(f"missing {quoted(missing)}")
    if extra:
        problems.append(f"unexpected {quoted(extra)}")
    hints = [
        f"{clip(found, MAX_QUOTED)!r} should be {wanted!r}"
        for wanted in missing
        for found in extra[:MAX_LISTED]
        if found.strip().lower() == wanted.strip().lower()
    ]
    if len(names) == 1 and any(mark in names[0] for mark in ";\t|"):
        hints.append("columns must be separated by commas")
    hint = f" ({'; '.join(hints)})" if hints else ""
    raise ValidationError(
        f"The {what} must have exactly the columns {' and '.join(map(repr, expected))}; "
        f"it has {quoted(names)}: {'; '.join(problems)}{hint}."
    )


def ids_of(table: pa.Table, name: str, what: str) -> pa.Array:
    """The id column as int64 when it holds integers, else as text; refused when some cells are empty."""
    ids = table.column(name).combine_chunks()
    if ids.null_count:
        rows = np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[:MAX_LISTED] + 1
        noun = "row" if ids.null_count == 1 else "rows"
        raise ValidationError(
            f"The {what} has {ids.null_count} {noun} without an id "
            f"(data row {', '.join(map(str, rows))}, counting from 1 below the header)."
        )
    if pa.types.is_dictionary(ids.type):
        ids = ids.dictionary_decode()
    kind = ids.type
    try:
        if pa.types.is_integer(kind):
            return ids.cast(pa.int64())
        if pa.types.is_string(kind):
            return ids
        return pc.cast(ids, pa.string())
    except pa.ArrowInvalid:
        if pa.types.is_integer(kind):  # unsigned beyond the int64 range: compare as text
            return pc.cast(ids, pa.string())
        message = f"The {what}'s ids in {name!r} must be numbers or UTF-8 text, not {kind}."
        raise ValidationError(message) from None
    except pa.ArrowNotImplementedError:
        raise ValidationError(f"The {what}'s ids in {name!r} must be numbers or text, not {kind}.") from None


def numbers_of(table: pa.Table, name: str, ids: pa.Array, what: str) -> np.ndarray:
    """A column as float64; ValidationError naming the ids of empty or non-numeric cells."""
    column = table.column(name).combine_chunks()
    if column.null_count:
        missing = ids.filter(column.is_null())
        message = f"The {what}'s column {name!r} has empty cells; {listing(missing, 'without a value')}."
        raise ValidationError(message)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_decimal(kind):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)):
        raise ValidationError(f"The {what}'s column {name!r} must hold numbers, not {kind}.")
    # Text the reader could not take for numbers: surrounding spaces are forgiven, anything else is listed.
    text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        pass
    values = np.empty(len(text), dtype=np.float64)
    bad = []
    for row, cell in enumerate(text.to_pylist()):  # only files that are refused, or nearly, come this way
        try:
            if "_" in cell:  # Python reads 1_000 as a number; no CSV reader does
                raise ValueError(cell)
            values[row] = float(cell)
        except ValueError:
            bad.append(row)
    if not bad:
        return values
    raise ValidationError(
        f"The {what}'s column {name!r} must hold numbers; {listing(ids.take(pa.array(bad)), 'not a number')} "
        f"(the first reads {clip(text[bad[0]].as_py(), MAX_QUOTED)!r})."
    )


def require_finite(values: np.ndarray, ids: pa.Array, what: str, name: str) -> None:
    """Refuse NaN and infinite values, naming their ids."""
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValidationError(
            f"The {what}'s column {name!r} must hold finite numbers; "
            f"{listing(ids.filter(pa.array(bad)), 'NaN or infinite')}."
        )


def duplicates(ids: pa.Array) -> pa.Array:
    """The ids that occur more than once, each once, in the order of their first appearance."""
    counts = pc.value_counts(ids)
    return counts.field("values").filter(pc.greater(counts.field("counts"), 1))
