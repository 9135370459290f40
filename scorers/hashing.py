"""A 64-bit hash of each id's text, computed for a million ids at a time without a Python loop.

The hash of an id is defined on its UTF-8 bytes (integers in decimal), so that it is the same on any
machine, in any process and for any file type. `key_hash` spells the definition out in plain Python;
`key_hashes` computes the same numbers column-wise with NumPy:

    h = mix(number of bytes)
    for each 8-byte word w of the bytes, the last one padded with zero bytes, read little-endian:
        h = mix(h XOR w)

where mix is the splitmix64 step (add the golden ratio, then its finaliser), all modulo 2**64.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MASK = 2**64 - 1
_GOLDEN, _M1, _M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_CHUNK = 65_536  # ids per block on the slow path for non-ASCII text, to bound its index arrays


def mix(z: int) -> int:
    """The splitmix64 step of one 64-bit number."""
    z = (z + _GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * _M1) & MASK
    z = ((z ^ (z >> 27)) * _M2) & MASK
    return z ^ (z >> 31)


def key_hash(text: str) -> int:
    """The hash of one id's text (the definition; `key_hashes` is the fast equivalent)."""
    data = text.encode("utf-8")
    h = mix(len(data))
    for start in range(0, len(data), 8):
        h = mix(h ^ int.from_bytes(data[start : start + 8].ljust(8, b"\0"), "little"))
    return h


def mix_array(z: np.ndarray) -> np.ndarray:
    """The splitmix64 step of each number of a uint64 array (a new array; arithmetic wraps silently)."""
    z = z + np.uint64(_GOLDEN)
    z ^= z >> np.uint64(30)
    z *= np.uint64(_M1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_M2)
    z ^= z >> np.uint64(31)
    return z


def as_text(ids: pa.Array) -> pa.StringArray:
    """The ids as text: integers in decimal, text as it is."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    return ids if ids.type == pa.string() else pc.cast(ids, pa.string())


def key_hashes(ids: pa.Array) -> np.ndarray:
    """`key_hash` of every id, as a uint64 array."""
    text = as_text(ids)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    lengths = np.diff(offsets)
    hashes = mix_array(lengths.astype(np.uint64))
    if not len(text):
        return hashes
    words = _words(text, offsets, lengths)
    counts = (lengths + 7) // 8
    for column in range(words.shape[1]):
        mixed = mix_array(hashes ^ words[:, column])
        if column == 0 and counts.min() > 0:
            hashes = mixed
        else:
            # Shorter ids have no word here and keep their hash: it depends on their own text alone.
            np.copyto(hashes, mixed, where=counts > column)
    return hashes


def _words(text: pa.StringArray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each id's bytes padded with zero bytes to whole 8-byte words, as an (ids, words) uint64 matrix."""
    width = max(1, (int(lengths.max()) + 7) // 8) * 8
    if pc.all(pc.string_is_ascii(text)).as_py():
        # Padding with NUL bytes to a common width lays the ids out as the rows of a matrix.
        padded = pc.utf8_rpad(text, width=width, padding="\0")
        start = int(np.frombuffer(padded.buffers()[1], dtype=np.int32)[padded.offset])
        data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[start : start + len(text) * width]
        return data.view("<u8").reshape(len(text), width // 8)
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    matrix = np.zeros((len(text), width), dtype=np.uint8)
    for first in range(0, len(text), _CHUNK):
        bounds = offsets[first : first + _CHUNK + 1]
        sizes = np.diff(bounds)
        rows = np.repeat(np.arange(first, first + len(sizes)), sizes)
        columns = np.arange(bounds[0], bounds[-1]) - np.repeat(bounds[:-1], sizes)
        matrix[rows, columns] = data[bounds[0] : bounds[-1]]
    return matrix.view("<u8")
