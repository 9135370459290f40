"""Suggested bad ranges from a source's scores, and where a certification's bad range came from."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from app.models.suggestions import RangeOrigin

Range = tuple[int, int]


def suggested_ranges(
    lumisections: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, threshold: float
) -> list[Range]:
    """The maximal runs of consecutive lumisection numbers scored at or above the threshold, sorted.

    A lumisection number missing from the scores breaks a run: a source suggests only what it scored. NaN is
    below every threshold.
    """
    numbers = np.asarray(lumisections, dtype=np.int64)
    values = np.asarray(scores, dtype=np.float64)
    if numbers.shape != values.shape:
        raise ValueError("one score per lumisection")
    if len(numbers) and not np.all(numbers[1:] > numbers[:-1]):
        order = np.argsort(numbers, kind="stable")
        numbers, values = numbers[order], values[order]
        if np.any(numbers[1:] == numbers[:-1]):
            raise ValueError("a lumisection is scored more than once")
    bad = values >= threshold
    # Where the next lumisection continues a run of bad ones, and where the previous one did.
    joins_next = np.zeros(len(numbers), dtype=bool)
    joins_next[:-1] = bad[:-1] & bad[1:] & (np.diff(numbers) == 1)
    joined_from_previous = np.zeros(len(numbers), dtype=bool)
    joined_from_previous[1:] = joins_next[:-1]
    firsts = numbers[bad & ~joined_from_previous]
    lasts = numbers[bad & ~joins_next]
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def range_origin(
    first: int, last: int, claimed_origin: RangeOrigin | str | None, source_ranges: Collection[Range] | None
) -> RangeOrigin:
    """The origin a bad range keeps, checked against the suggested ranges its source showed for the run.

    The claim says only whether the range started as a suggestion (the shifter accepted it with the key);
    what it is follows from its ends: exactly a suggested range of its source is `suggested`, overlapping one
    with other ends is `suggested_edited`, anything else (or a claim of `manual`, or no source) is `manual`.
    A range typed by hand stays manual even where it equals a suggestion: the shifter found it themselves.
    """
    if claimed_origin is None or RangeOrigin(claimed_origin) is RangeOrigin.MANUAL or not source_ranges:
        return RangeOrigin.MANUAL
    if (first, last) in {(int(a), int(b)) for a, b in source_ranges}:
        return RangeOrigin.SUGGESTED
    if any(a <= last and first <= b for a, b in source_ranges):
        return RangeOrigin.SUGGESTED_EDITED
    return RangeOrigin.MANUAL
