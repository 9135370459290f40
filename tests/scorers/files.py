"""Small solutions and submissions, as the bytes of each file format the scorers read."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pyarrow as pa

import scorers


def as_csv(frame: pd.DataFrame) -> bytes:
    """The frame as CSV, without the index."""
    return frame.to_csv(index=False).encode()


def as_gzip(frame: pd.DataFrame) -> bytes:
    """The frame as gzip-compressed CSV."""
    return gzip.compress(as_csv(frame), mtime=0)


def as_parquet(frame: pd.DataFrame) -> bytes:
    """The frame as Parquet."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def all_public(y, weight=None, usage=None) -> scorers.Solution:
    """A solution with integer ids 0..n-1 whose rows are public (or split by the usage given)."""
    n = len(y)
    columns = {"id": np.arange(n), "label": np.asarray(y, dtype=float)}
    if weight is not None:
        columns["weight"] = np.asarray(weight, dtype=float)
    columns["Usage"] = ["Public"] * n if usage is None else list(usage)
    return scorers.Solution.from_table(pa.table(columns))
