"""The public/private split: by the solution's Usage column, or by a hash of each id and a seed.

The hash depends only on the id's text and the seed, so an id lands on the same
side on any machine, in any process, whatever the order or the file type of the rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scorers.errors import ValidationError, listing

USAGES = {"public": "Public", "private": "Private", "ignored": "Ignored"}
_PRIME = np.uint64(1099511628211)  # odd, so that the polynomial hash mixes every byte
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def id_hashes(ids: pa.Array, seed: int) -> np.ndarray:
    """A 64-bit hash of each id's text, mixed with the seed (vectorised, no Python loop)."""
    text = pc.cast(ids, pa.string()).combine_chunks() if isinstance(ids, pa.ChunkedArray) else pc.cast(ids, pa.string())
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8) if text.buffers()[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    chars = data[offsets[0] : offsets[-1]].astype(np.uint64)
    position = np.arange(chars.size) - np.repeat(offsets[:-1] - offsets[0], lengths)
    powers = np.cumprod(np.full(max(int(lengths.max(initial=0)), 1), _PRIME, dtype=np.uint64)) if chars.size else None
    hashes = np.zeros(len(text), dtype=np.uint64)
    nonempty = lengths > 0
    if chars.size:
        sums = np.add.reduceat(chars * powers[position], (offsets[:-1] - offsets[0])[nonempty])
        hashes[nonempty] = sums
    # splitmix64's finaliser, so that similar ids spread over the whole range.
    seed_mix = (np.full(1, (seed + 1) % 2**64, dtype=np.uint64) * _GOLDEN)[0]  # array maths wraps silently
    z = hashes + seed_mix + lengths.astype(np.uint64)
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def hashed_public_mask(ids: pa.Array, fraction: float, seed: int) -> np.ndarray:
    """Whether each id is public: its hash, read as a number in [0, 1), is below the fraction."""
    unit = (id_hashes(ids, seed) >> np.uint64(11)).astype(np.float64) / float(2**53)
    return unit < fraction


def usage_masks(usage: pa.Array, ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Public and private masks from a Usage column of Public, Private or Ignored (any case)."""
    # A handful of distinct values over a million rows: compare the dictionary, not every string.
    encoded = pc.cast(usage, pa.string()).dictionary_encode()
    words = [str(word).lower() for word in encoded.dictionary.to_pylist()]
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    known = np.isin(codes, [i for i, word in enumerate(words) if word in USAGES]) & ~np.asarray(
        encoded.is_null().to_numpy(zero_copy_only=False)
    )
    if not known.all():
        bad = ids.filter(pa.array(~known)).to_pylist()
        raise ValidationError(
            "The solution's Usage column must be Public, Private or Ignored; " + listing(bad, "marked otherwise")
        )
    public = np.isin(codes, [i for i, word in enumerate(words) if word == "public"])
    private = np.isin(codes, [i for i, word in enumerate(words) if word == "private"])
    return public, private
