"""The hidden solution: true targets by id, optional weights, and the public/private split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from scorers.errors import ValidationError, listing
from scorers.errors import names as quoted
from scorers.hashing import as_text, key_hashes
from scorers.io import Source, read_table
from scorers.matching import IntegerIndex, TextIndex
from scorers.split import public_mask, usage_masks
from scorers.validation import ids_of, numbers_of, require_finite

USAGE, WEIGHT = "Usage", "weight"


@dataclass(eq=False)
class Solution:
    """A loaded and checked solution, to be reused for any number of submissions (it indexes its ids once)."""

    ids: pa.Array  # int64 when the ids are integers, else text
    y: np.ndarray
    weight: np.ndarray | None
    public: np.ndarray
    private: np.ndarray
    id_column: str = "id"
    target_column: str = "target"
    _indexes: dict[str, IntegerIndex | TextIndex] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def load(
        cls,
        source: Source,
        *,
        id_column: str = "id",
        target_column: str | None = None,
        public_fraction: float = 0.3,
        split_seed: int = 0,
        max_bytes: int | None = None,
    ) -> Solution:
        """Read and check a solution file; the split is its Usage column, else from the fraction and seed.

        max_bytes bounds the file once decompressed (None: no bound).
        """
        table = read_table(source, what="solution", text_columns=[id_column], max_bytes=max_bytes)
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
            raise ValidationError(f"The solution has no id column {id_column!r}; it has {_names(names)}.")
        target_column = target_column or default_target(names, id_column)
        if target_column not in names or target_column == id_column:
            message = f"The solution has no target column {target_column!r}; it has {_names(names)}."
            raise ValidationError(message)
        ids = ids_of(table, id_column, "solution")
        y = numbers_of(table, target_column, ids, "solution")
        require_finite(y, ids, "solution", target_column)
        weight = None
        if WEIGHT in names:
            weight = numbers_of(table, WEIGHT, ids, "solution")
            negative = ~(weight >= 0)  # NaN is refused here too
            if negative.any() or not np.isfinite(weight).all():
                bad = listing(ids.filter(pa.array(negative | ~np.isfinite(weight))), "weighted otherwise")
                raise ValidationError(f"The solution's weights must be finite and not negative; {bad}.")
        hashes = key_hashes(ids) if pa.types.is_string(ids.type) else None
        if USAGE in names:
            public, private = usage_masks(table.column(USAGE), ids)
        else:
            public = public_mask(ids, public_fraction, split_seed, hashes)
            private = ~public
        solution = cls(ids, y, weight, public, private, id_column, target_column)
        solution._indexes[str(ids.type)] = TextIndex(ids, hashes) if hashes is not None else IntegerIndex(ids)
        repeated = solution.index(ids.type).duplicated()
        if len(repeated):
            raise ValidationError(f"The solution's ids must be unique; {listing(repeated, 'duplicated')}.")
        return solution

    @property
    def n_rows(self) -> int:
        """Rows of the solution, ignored ones included: a submission predicts every one."""
        return len(self.ids)

    def index(self, kind: pa.DataType) -> IntegerIndex | TextIndex:
        """The solution's ids indexed for matching ids of this type (int64, or text)."""
        key = "int64" if pa.types.is_integer(kind) and pa.types.is_integer(self.ids.type) else "string"
        if key not in self._indexes:
            self._indexes[key] = IntegerIndex(self.ids) if key == "int64" else TextIndex(as_text(self.ids))
        return self._indexes[key]


def default_target(names: list[str], id_column: str) -> str:
    """The one column that is neither the id nor Usage nor weight."""
    candidates = [name for name in names if name not in (id_column, USAGE, WEIGHT)]
    if len(candidates) != 1:
        raise ValidationError(
            f"Name the target column: the solution has {len(candidates)} columns besides the id, "
            f"Usage and weight ({_names(candidates) or 'none'})."
        )
    return candidates[0]


def _names(names: list[str]) -> str:
    return quoted(names)
