"""Golden-JSON arithmetic: lumisection masks as plain data, and pure functions on them.

A mask maps a run number to its sorted, merged, inclusive lumisection ranges:
``{315257: [(1, 88), (91, 92)]}``. Reading accepts any JSON layout of the CMS
files; writing gives the canonical layout of CONTRACT.md, so that the same
content always gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path

from app.services.errors import Refused

Range = tuple[int, int]
Mask = dict[int, list[Range]]


def merge_ranges(ranges: Iterable[Iterable[int]]) -> list[Range]:
    """Sorted ranges with overlapping and touching ones merged: [[1, 3], [4, 5]] becomes [(1, 5)]."""
    merged: list[list[int]] = []
    for first, last in sorted((int(a), int(b)) for a, b in ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [(a, b) for a, b in merged]


def _check_range(run: str, item: object) -> Range:
    if not (
        isinstance(item, (list, tuple))
        and len(item) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
    ):
        raise Refused(f"run {run}: each range must be a pair of lumisection numbers [first, last], not {item!r}")
    first, last = item
    if first < 1 or last < first:
        raise Refused(f"run {run}: range [{first}, {last}] must have 1 <= first <= last")
    return first, last


def from_json(document: Mapping) -> Mask:
    """A mask from a parsed golden JSON object; Refused, saying where, when it does not have the shape of one."""
    if not isinstance(document, Mapping):
        raise Refused("a golden JSON is an object mapping run numbers to lists of [first, last] ranges")
    mask: Mask = {}
    for run, ranges in document.items():
        if not str(run).isdigit():
            raise Refused(f"{run!r} is not a run number")
        if not isinstance(ranges, list):
            raise Refused(f"run {run}: expected a list of ranges, not {type(ranges).__name__}")
        merged = merge_ranges(_check_range(str(run), item) for item in ranges)
        if merged:
            mask[int(run)] = merged
    return mask


def loads(text: str | bytes) -> Mask:
    """A mask from golden JSON text, in any layout."""
    try:
        return from_json(json.loads(text))
    except json.JSONDecodeError as error:
        raise Refused(f"not JSON: {error}") from None


def load(path: str | PathLike) -> Mask:
    """A mask from a golden or DCS-only JSON file."""
    return loads(Path(path).read_bytes())


def from_lumisections(pairs: Iterable[tuple[int, int]]) -> Mask:
    """The mask holding exactly these (run, lumisection) pairs."""
    by_run: dict[int, list[Range]] = {}
    for run, number in pairs:
        by_run.setdefault(int(run), []).append((int(number), int(number)))
    return {run: merge_ranges(ranges) for run, ranges in by_run.items()}


def union(a: Mask, b: Mask) -> Mask:
    """Lumisections in either mask."""
    return {run: merge_ranges([*a.get(run, []), *b.get(run, [])]) for run in sorted(a.keys() | b.keys())}


def _intersect(x: list[Range], y: list[Range]) -> list[Range]:
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        first, last = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if first <= last:
            out.append((first, last))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def intersection(a: Mask, b: Mask) -> Mask:
    """Lumisections in both masks."""
    out = {run: _intersect(a[run], b[run]) for run in sorted(a.keys() & b.keys())}
    return {run: ranges for run, ranges in out.items() if ranges}


def _subtract(x: list[Range], y: list[Range]) -> list[Range]:
    out = []
    j = 0
    for first, last in x:
        while j < len(y) and y[j][1] < first:
            j += 1
        k, start = j, first
        while k < len(y) and y[k][0] <= last:
            if y[k][0] > start:
                out.append((start, y[k][0] - 1))
            start = max(start, y[k][1] + 1)
            k += 1
        if start <= last:
            out.append((start, last))
    return out


def difference(a: Mask, b: Mask) -> Mask:
    """Lumisections in a but not in b."""
    out = {run: _subtract(ranges, b.get(run, [])) for run, ranges in sorted(a.items())}
    return {run: ranges for run, ranges in out.items() if ranges}


def contains(mask: Mask, run: int, lumisection: int) -> bool:
    """Whether the mask holds this lumisection of this run."""
    return any(first <= lumisection <= last for first, last in mask.get(run, []))


def count(mask: Mask) -> int:
    """How many lumisections the mask holds."""
    return sum(last - first + 1 for ranges in mask.values() for first, last in ranges)


def dumps(mask: Mask) -> str:
    """The canonical layout: runs sorted, one per line, two-space indent, merged ranges."""
    if not mask:
        return "{}"
    lines = [
        f'  "{run}": [{", ".join(f"[{first}, {last}]" for first, last in merge_ranges(ranges))}]'
        for run, ranges in sorted(mask.items())
        if ranges
    ]
    return "{\n" + ",\n".join(lines) + "\n}"
