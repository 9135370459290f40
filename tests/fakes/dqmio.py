"""Large synthetic dumps in the DQMIO Parquet layout, written a row group at a time: for the tests and the
benchmark of importing monitoring elements with bounded memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from app.services.runs.monitoring_elements import COLUMNS

SCHEMA = pa.schema(
    [
        ("fromrun", pa.int64()),
        ("fromlumi", pa.int64()),
        ("hname", pa.string()),
        ("metype", pa.int64()),
        ("histo", pa.list_(pa.int64())),
        ("entries", pa.int64()),
        ("Xmin", pa.float64()),
        ("Xmax", pa.float64()),
        ("Xbins", pa.int64()),
        ("Ymin", pa.float64()),
        ("Ymax", pa.float64()),
        ("Ybins", pa.int64()),
    ]
)
assert tuple(SCHEMA.names) == COLUMNS


def write_dqmio(
    path: Path,
    *,
    run: int = 370000,
    lumisections: int = 1000,
    elements: int = 4,
    bins: tuple[int, int] = (200, 200),
    rows_per_group: int = 64,
    seed: int = 1,
    compression: str = "snappy",
) -> int:
    """Write `lumisections` x `elements` 2D maps of `bins` (sparse Poisson counts, as occupancy maps are), ordered
    by lumisection then element, in row groups of `rows_per_group` rows; returns the bytes the histo column
    takes once decoded (int64)."""
    rng = np.random.default_rng(seed)
    size = bins[0] * bins[1]
    names = [f"PixelPhase1_Synthetic_PXLayer_{i + 1}" for i in range(elements)]
    pattern = rng.random((elements, size)) < 0.15  # the bins an element fills
    noise = rng.poisson(4.0, size=size * 8)
    total = lumisections * elements
    with pq.ParquetWriter(path, SCHEMA, use_dictionary=False, compression=compression) as writer:
        for first in range(0, total, rows_per_group):
            rows = np.arange(first, min(total, first + rows_per_group))
            element = rows % elements
            offsets = rng.integers(0, noise.size - size, size=len(rows))
            counts = np.stack([noise[o : o + size] for o in offsets]) * pattern[element]
            histo = pa.ListArray.from_arrays(
                pa.array(np.arange(len(rows) + 1, dtype=np.int32) * size), pa.array(counts.ravel())
            )
            batch = {
                "fromrun": np.full(len(rows), run),
                "fromlumi": rows // elements + 1,
                "hname": [names[e] for e in element],
                "metype": np.full(len(rows), 6),
                "histo": histo,
                "entries": counts.sum(axis=1),
                "Xmin": np.full(len(rows), -60.0),
                "Xmax": np.full(len(rows), 60.0),
                "Xbins": np.full(len(rows), bins[0]),
                "Ymin": np.full(len(rows), -3.2),
                "Ymax": np.full(len(rows), 3.2),
                "Ybins": np.full(len(rows), bins[1]),
            }
            writer.write_table(pa.table(batch, schema=SCHEMA))
    return total * size * 8
