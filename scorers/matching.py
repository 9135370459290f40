"""Finding each submission row's solution row, fast when all is well and precise about what is not.

The solution's ids are indexed once (a solution is loaded once and used for many submissions): integer ids
through a lookup table when they are dense, else through their sorted order; text ids through the sorted
order of their 64-bit hashes, each match then confirmed on the text itself. Any mismatch falls back to an
exact comparison that names the duplicated, unknown and missing ids.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scorers.errors import ValidationError, listing
from scorers.hashing import key_hashes
from scorers.validation import duplicates

# A lookup table costs 4 bytes per possible id: worth it while ids fill at least a quarter of their range.
_DENSITY = 4


class IntegerIndex:
    """The solution's integer ids, with each submission id's row found by table lookup or by sorting."""

    def __init__(self, ids: pa.Array) -> None:
        self.ids = ids
        self.values = ids.to_numpy()
        self.increasing = bool(np.all(self.values[1:] > self.values[:-1]))
        self._lookup: np.ndarray | None = None
        self._sorted: tuple[np.ndarray, np.ndarray | None] | None = None

    def duplicated(self) -> pa.Array:
        """The ids that occur more than once."""
        if self.increasing:  # the usual solution file, sorted by id, needs one comparison per row
            return pa.array([], pa.int64())
        ordered = np.sort(self.values)
        if not (ordered[1:] == ordered[:-1]).any():
            return pa.array([], pa.int64())
        return duplicates(self.ids)

    def rows(self, ids: pa.Array) -> np.ndarray:
        """The solution row of each submission id; ValidationError unless they are the same ids, once each."""
        values = ids.to_numpy()
        n = len(self.values)
        if len(values) == n and n:
            low, high = int(self.values.min()), int(self.values.max())
            if high - low < _DENSITY * n:
                rows = self._rows_by_lookup(values, low, high)
            else:
                rows = self._rows_by_sorting(values)
            if rows is not None:
                return rows
        raise mismatch(self.ids, ids)

    def _rows_by_lookup(self, values: np.ndarray, low: int, high: int) -> np.ndarray | None:
        if self._lookup is None:
            rows = np.int64 if len(self.values) >= 2**31 else np.int32
            self._lookup = np.full(high - low + 1, -1, dtype=rows)
            self._lookup[self.values - low] = np.arange(len(self.values))
        if values.min() < low or values.max() > high:
            return None
        rows = self._lookup[values - low]
        if rows.min() < 0:
            return None
        seen = np.zeros(len(self.values), dtype=bool)
        seen[rows] = True  # as many ids as the solution, all known: every row is hit once unless one repeats
        return rows if seen.all() else None

    def _rows_by_sorting(self, values: np.ndarray) -> np.ndarray | None:
        if self._sorted is None:
            order = None if self.increasing else np.argsort(self.values)
            self._sorted = (self.values if order is None else self.values[order], order)
        ordered, order = self._sorted
        submitted = np.argsort(values)
        if not np.array_equal(values[submitted], ordered):
            return None
        rows = np.empty(len(values), dtype=np.int64)
        rows[submitted] = np.arange(len(values)) if order is None else order
        return rows


class TextIndex:
    """The solution's text ids, with each submission id's row found through the sorted order of hashes."""

    def __init__(self, ids: pa.Array, hashes: np.ndarray | None = None) -> None:
        self.ids = ids
        hashes = key_hashes(ids) if hashes is None else hashes
        self.order = np.argsort(hashes)
        self.sorted_hashes = hashes[self.order]
        # Two different ids with the same 64-bit hash are next to never seen; the exact path then serves.
        self.collisions = bool((self.sorted_hashes[1:] == self.sorted_hashes[:-1]).any())

    def duplicated(self) -> pa.Array:
        """The ids that occur more than once."""
        return duplicates(self.ids) if self.collisions else pa.array([], pa.string())

    def rows(self, ids: pa.Array) -> np.ndarray:
        """The solution row of each submission id; ValidationError unless they are the same ids, once each."""
        if len(ids) != len(self.ids):
            raise mismatch(self.ids, ids)
        if not self.collisions:
            hashes = key_hashes(ids)
            submitted = np.argsort(hashes)
            if np.array_equal(hashes[submitted], self.sorted_hashes):
                rows = np.empty(len(ids), dtype=np.int64)
                rows[submitted] = self.order
                if pc.all(pc.equal(ids, self.ids.take(pa.array(rows)))).as_py():
                    return rows
        return exact_rows(self.ids, ids)


def exact_rows(solution_ids: pa.Array, ids: pa.Array) -> np.ndarray:
    """The solution row of each submission id by exact comparison (slower; used when hashes cannot decide)."""
    found = pc.index_in(ids, value_set=solution_ids)
    if len(ids) == len(solution_ids) and not found.null_count:
        rows = found.to_numpy()
        seen = np.zeros(len(rows), dtype=bool)
        seen[rows] = True
        if seen.all():
            return rows.astype(np.int64)
    raise mismatch(solution_ids, ids)


def mismatch(solution_ids: pa.Array, ids: pa.Array) -> ValidationError:
    """The error that names duplicated, unknown and missing ids of a submission."""
    problems = []
    repeated = duplicates(ids)
    if len(repeated):
        problems.append(f"Each id must appear once; {listing(repeated, 'duplicated')}.")
    unknown = ids.filter(pc.invert(pc.is_in(ids, value_set=solution_ids)))
    if len(unknown):
        problems.append(f"{listing(unknown, 'not in the test set')}.")
    missing = solution_ids.filter(pc.invert(pc.is_in(solution_ids, value_set=ids)))
    if len(missing):
        problems.append(f"Every id of the test set needs a prediction; {listing(missing, 'missing')}.")
    if not problems:  # cannot happen when the solution's ids are unique; say so rather than pass silently
        problems.append("The submission's ids do not match the test set's.")
    return ValidationError(" ".join(problems))
