"""Monitoring elements of known contents, stored as an import stores them (``element_store.store_elements``).

A 1D element of ``BINS`` bins has, at lumisection n, ``PEAK * n`` entries in bin ``n % BINS`` and one in each
other bin; a 2D element of ``SHAPE`` has, at lumisection n, n entries in cell ``(n % X, n % Y)`` and one in each
other cell. So a test knows every share without reading the store.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from app.services.runs import element_store
from app.services.runs.monitoring_elements import COLUMNS

BINS, PEAK = 10, 3
SHAPE = (5, 4)


def counts_1d(lumisection: int, bins: int = BINS) -> np.ndarray:
    """The contents of a 1D element at this lumisection."""
    counts = np.ones(bins)
    counts[lumisection % bins] = PEAK * lumisection
    return counts


def counts_2d(lumisection: int, shape: tuple[int, int] = SHAPE) -> np.ndarray:
    """The contents of a 2D element at this lumisection, indexed [x][y]."""
    counts = np.ones(shape)
    counts[lumisection % shape[0], lumisection % shape[1]] = lumisection
    return counts


def long_frame(
    run: int,
    name: str,
    lumisections: Iterable[int],
    *,
    dimension: int = 1,
    bins: int = BINS,
    shape: tuple[int, int] = SHAPE,
) -> pd.DataFrame:
    """The element's rows in the long DQMIO layout (a 2D map flattened with x the slow index)."""
    numbers = list(lumisections)
    if dimension == 1:
        histo = [counts_1d(n, bins) for n in numbers]
        binning = {"metype": 3, "Xmin": 0.0, "Xmax": float(bins), "Xbins": bins, "Ymin": 0.0, "Ymax": 0.0, "Ybins": 0}
    else:
        histo = [counts_2d(n, shape).ravel() for n in numbers]
        binning = {
            "metype": 6,
            "Xmin": -1.0,
            "Xmax": 1.0,
            "Xbins": shape[0],
            "Ymin": 0.0,
            "Ymax": 2.0,
            "Ybins": shape[1],
        }
    frame = pd.DataFrame(
        {"fromrun": run, "fromlumi": numbers, "hname": name, "histo": histo, "entries": [h.sum() for h in histo]}
        | binning
    )
    return frame[list(COLUMNS)]


def store(*frames: pd.DataFrame) -> None:
    """Store these elements (call inside an app context)."""
    element_store.store_elements(pd.concat(frames, ignore_index=True))


def shares(counts: np.ndarray) -> np.ndarray:
    """Contents as shares of their entries."""
    return counts / counts.sum()
