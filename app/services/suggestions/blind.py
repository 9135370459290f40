"""The blind audit: which runs of a task are certified without suggestions until the shifter has certified.

Each run is drawn on its own from the task's seed and its run number (a hash, not a shuffle of the task's
runs), so a run's draw never changes when the task gains runs later, and the share of blind runs tends to the
asked fraction as runs accumulate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

DRAW_BITS = 64


def draw(seed: int, run_number: int) -> float:
    """The run's draw for the seed, uniform in [0, 1)."""
    digest = hashlib.sha256(f"blind:{int(seed)}:{int(run_number)}".encode()).digest()
    return int.from_bytes(digest[: DRAW_BITS // 8], "big") / 2**DRAW_BITS


def is_blind(seed: int, run_number: int, fraction: float) -> bool:
    """Whether the run is certified blind in a task with this seed and blind fraction."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"the blind fraction lies in [0, 1], not {fraction}")
    return draw(seed, run_number) < fraction


def blind_runs(seed: int, run_numbers: Iterable[int], fraction: float) -> set[int]:
    """The runs among these that are certified blind."""
    return {run for run in run_numbers if is_blind(seed, run, fraction)}
