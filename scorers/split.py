"""The public/private split: the solution's Usage column when it has one, else a hash of each id and a seed.

An id's side depends only on its text and the seed (see `position`), so the same id lands on the same side
on any machine, in any process, whatever the row order or the file type. Ids whose position is below the
public fraction are public, the others private.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scorers.errors import MAX_QUOTED, ValidationError, clip, listing
from scorers.hashing import MASK, key_hash, key_hashes, mix, mix_array

USAGES = {"public": 0, "private": 1, "ignored": 2}
_SPELLED = pa.array([name.capitalize() for name in USAGES])


def position(id_text: str, seed: int) -> float:
    """Where an id falls in [0, 1) for this seed (the definition; `public_mask` is the fast equivalent)."""
    return (mix(key_hash(id_text) ^ mix(seed & MASK)) >> 11) / 2**53


def positions(hashes: np.ndarray, seed: int) -> np.ndarray:
    """`position` of every id, from the ids' key hashes."""
    mixed = mix_array(hashes ^ np.uint64(mix(seed & MASK)))
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def public_mask(ids: pa.Array, fraction: float, seed: int, hashes: np.ndarray | None = None) -> np.ndarray:
    """Whether each id is public: its position for the seed is below the fraction."""
    if not 0 <= fraction <= 1:
        raise ValidationError(f"The public fraction must lie between 0 and 1, not {fraction}.")
    return positions(key_hashes(ids) if hashes is None else hashes, seed) < fraction


def usage_masks(usage: pa.ChunkedArray | pa.Array, ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Public and private masks from a Usage column of Public, Private or Ignored (any case)."""
    if pa.types.is_string(usage.type):
        # The usual spelling, found in one pass; anything else takes the careful way below.
        sides = pc.index_in(usage, value_set=_SPELLED)
        if not sides.null_count:
            sides = sides.to_numpy()
            return sides == USAGES["public"], sides == USAGES["private"]
    chunks = usage.chunks if isinstance(usage, pa.ChunkedArray) else [usage]
    sides = np.concatenate([_sides(chunk) for chunk in chunks]) if chunks else np.zeros(0, np.int8)
    unknown = sides < 0
    if unknown.any():
        bad = ids.filter(pa.array(unknown))
        raise ValidationError(
            "The solution's Usage column must say Public, Private or Ignored; "
            f"{listing(bad, 'marked otherwise')}{_found(chunks, unknown)}."
        )
    return sides == USAGES["public"], sides == USAGES["private"]


def _sides(usage: pa.Array) -> np.ndarray:
    """Each row's side as 0 (public), 1 (private), 2 (ignored) or -1 (anything else)."""
    # A handful of distinct values over a million rows: look at the dictionary, not at every string.
    if not pa.types.is_dictionary(usage.type):
        try:
            usage = pc.dictionary_encode(pc.cast(usage, pa.string()))
        except pa.ArrowException:
            return np.full(len(usage), -1, dtype=np.int8)
    names = pc.cast(usage.dictionary, pa.string()).to_pylist()
    codes = [USAGES.get(str(name).strip().lower(), -1) if name is not None else -1 for name in names]
    lookup = np.array([*codes, -1], dtype=np.int8)  # the last entry stands for empty cells
    indices = pc.fill_null(usage.indices, len(names)).to_numpy(zero_copy_only=False)
    return lookup[indices]


def _found(chunks: list[pa.Array], unknown: np.ndarray) -> str:
    """' (found 'Secret', an empty cell)': the first few values that are not a side."""
    try:
        values = pc.unique(pc.cast(pa.chunked_array(chunks), pa.string()).filter(pa.array(unknown)))
    except pa.ArrowException:
        return ""
    shown = ", ".join("an empty cell" if v is None else repr(clip(v, MAX_QUOTED)) for v in values[:5].to_pylist())
    return f" (found {shown})"
