"""The hidden solution: true targets by id, optional weights, and the public/private split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scorers.errors import ValidationError, listing
from scorers.io import read_table
from scorers.split import hashed_public_mask, usage_masks

RESERVED = ("Usage", "weight")


def numeric_column(table: pa.Table, name: str, ids: pa.Array, what: str) -> np.ndarray:
    """A column as float64; ValidationError naming the ids of empty or non-numeric cells."""
    column = table.column(name).combine_chunks()
    if column.null_count:
        missing = ids.filter(column.is_null()).to_pylist()
        raise ValidationError(f"The {what}'s column {name!r} has empty cells: " + listing(missing, "without a value"))
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    # The reader found text in the column: only this error path walks the values in Python.
    values = np.empty(len(column), dtype=np.float64)
    bad = []
    for index, item in enumerate(column.cast(pa.string()).to_pylist()):
        try:
            values[index] = float(item)
        except ValueError:
            bad.append(index)
    if bad:
        raise ValidationError(
            f"The {what}'s column {name!r} must hold numbers; "
            + listing(ids.take(pa.array(bad)).to_pylist(), "not a number")
        )
    return values


def read_ids(table: pa.Table, name: str, what: str) -> pa.Array:
    """The id column, refused when some cells are empty."""
    ids = table.column(name).combine_chunks()
    if ids.null_count:
        rows = np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[:10] + 2
        noun = "row" if ids.null_count == 1 else "rows"
        lines = ", ".join(map(str, rows))
        raise ValidationError(f"The {what} has {ids.null_count} {noun} without an id (line {lines}).")
    return ids


def duplicated_ids(ids: pa.Array) -> list:
    """The ids that occur more than once."""
    if pa.types.is_integer(ids.type):
        values = np.sort(ids.to_numpy(zero_copy_only=False))  # fast on the usual, already sorted ids
        repeated = values[1:][values[1:] == values[:-1]]
        return np.unique(repeated).tolist()
    counts = pc.value_counts(ids)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1))
    return repeated.field("values").to_pylist()


@dataclass
class Solution:
    """A loaded, validated solution, reusable for any number of submissions."""

    ids: pa.Array
    y: np.ndarray
    weight: np.ndarray | None
    public: np.ndarray
    private: np.ndarray
    id_column: str
    target_column: str

    @property
    def integer_ids(self) -> bool:
        """Whether the ids are integers (compared as numbers rather than text)."""
        return pa.types.is_integer(self.ids.type)

    @classmethod
    def load(
        cls,
        source: str | Path | bytes | BinaryIO,
        *,
        id_column: str = "id",
        target_column: str | None = None,
        public_fraction: float = 0.3,
        split_seed: int = 0,
    ) -> Solution:
        """Read and check a solution file; the split comes from its Usage column or from the fraction and seed."""
        table = read_table(source, what="solution")
        return cls.from_table(
            table,
            id_column=id_column,
            target_column=target_column,
            public_fraction=public_fraction,
            split_seed=split_seed,
        )

    @classmethod
    def from_table(
        cls,
        table: pa.Table,
        *,
        id_column: str = "id",
        target_column: str | None = None,
        public_fraction: float = 0.3,
        split_seed: int = 0,
    ) -> Solution:
        """Check a solution table and build the solution."""
        names = table.column_names
        if id_column not in names:
            raise ValidationError(f"The solution has no id column {id_column!r}; its columns are {', '.join(names)}.")
        target_column = target_column or _default_target(names, id_column)
        if target_column not in names:
            raise ValidationError(
                f"The solution has no target column {target_column!r}; its columns are {', '.join(names)}."
            )
        ids = read_ids(table, id_column, "solution")
        if pa.types.is_floating(ids.type):
            ids = ids.cast(pa.string())
        duplicated = duplicated_ids(ids)
        if duplicated:
            raise ValidationError("The solution's ids must be unique; " + listing(duplicated, "duplicated"))
        y = numeric_column(table, target_column, ids, "solution")
        if not np.isfinite(y).all():
            raise ValidationError(
                "The solution's targets must be finite; "
                + listing(ids.filter(pa.array(~np.isfinite(y))).to_pylist(), "NaN or infinite")
            )
        weight = None
        if "weight" in names:
            weight = numeric_column(table, "weight", ids, "solution")
            bad = ~np.isfinite(weight) | (weight < 0)
            if bad.any():
                raise ValidationError(
                    "Weights must be finite and not negative; "
                    + listing(ids.filter(pa.array(bad)).to_pylist(), "weighted otherwise")
                )
        if "Usage" in names:
            public, private = usage_masks(table.column("Usage").combine_chunks(), ids)
        else:
            public = hashed_public_mask(ids, public_fraction, split_seed)
            private = ~public
        return cls(ids, y, weight, public, private, id_column, target_column)


def _default_target(names: list[str], id_column: str) -> str:
    candidates = [n for n in names if n != id_column and n not in RESERVED]
    if len(candidates) != 1:
        raise ValidationError(
            f"Name the target column: the solution has {len(candidates)} columns besides the id, Usage and weight "
            f"({', '.join(candidates) or 'none'})."
        )
    return candidates[0]
