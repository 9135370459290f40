"""Golden-JSON arithmetic, on the real CMS files and on generated masks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.certification import lumimask
from app.services.errors import Refused

CMS = Path(__file__).resolve().parents[2] / "fixtures" / "cms"  # copies of shared/data/cms


@pytest.mark.parametrize(
    ("name", "runs", "lumisections"),
    [
        ("golden_2018.json", 478, 234_529),
        ("dcsonly_2018.json", 681, 258_508),
        ("golden_2017_UL.json", 457, 206_287),
        ("dcsonly_2017.json", 1016, 276_928),
        ("golden_2017_EOY.json", 474, 206_562),
        ("dcsonly_2024.json", 172, 70_527),
    ],
)
def test_real_files_read_with_the_counts_of_their_readme(name, runs, lumisections):
    mask = lumimask.load(CMS / name)
    assert (len(mask), lumimask.count(mask)) == (runs, lumisections)


def test_golden_2017_outside_dcs_only_is_the_two_known_lumisections():
    outside = lumimask.difference(lumimask.load(CMS / "golden_2017_UL.json"), lumimask.load(CMS / "dcsonly_2017.json"))
    assert outside == {305081: [(226, 227)]}


def test_canonical_output_reads_back_identically_and_is_stable():
    mask = lumimask.load(CMS / "golden_2018.json")
    text = lumimask.dumps(mask)
    assert lumimask.loads(text) == mask and lumimask.dumps(lumimask.loads(text)) == text
    assert text.startswith('{\n  "315257": [[1, 88], [91, 92]],\n  "315259": [[1, 172]],')
    assert json.loads(text) == {str(run): [list(r) for r in ranges] for run, ranges in mask.items()}


def test_touching_and_overlapping_ranges_merge():
    assert lumimask.merge_ranges([[5, 9], [1, 3], [4, 4], [20, 21], [8, 12]]) == [(1, 12), (20, 21)]
    assert lumimask.dumps({315257: [(91, 92), (1, 88)]}) == '{\n  "315257": [[1, 88], [91, 92]]\n}'
    assert lumimask.dumps({}) == "{}"


def test_set_operations_on_a_small_example():
    a = {1: [(1, 10)], 2: [(5, 6)]}
    b = {1: [(4, 5), (8, 20)], 3: [(1, 1)]}
    assert lumimask.union(a, b) == {1: [(1, 20)], 2: [(5, 6)], 3: [(1, 1)]}
    assert lumimask.intersection(a, b) == {1: [(4, 5), (8, 10)]}
    assert lumimask.difference(a, b) == {1: [(1, 3), (6, 7)], 2: [(5, 6)]}
    assert lumimask.contains(a, 1, 10) and not lumimask.contains(a, 1, 11) and not lumimask.contains(a, 9, 1)
    assert lumimask.count(a) == 12
    assert lumimask.from_lumisections([(7, 3), (7, 1), (7, 2), (8, 5)]) == {7: [(1, 3)], 8: [(5, 5)]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('["not", "a", "mask"]', "a golden JSON is an object"),
        ('{"abc": [[1, 2]]}', "'abc' is not a run number"),
        ('{"1": [[3, 2]]}', "range [3, 2] must have 1 <= first <= last"),
        ('{"1": [[0, 2]]}', "range [0, 2]"),
        ('{"1": [[1, 2, 3]]}', "must be a pair"),
        ('{"1": "1-5"}', "expected a list of ranges"),
        ("{nope", "not JSON"),
    ],
)
def test_bad_documents_are_refused_with_the_place(document, message):
    with pytest.raises(Refused, match=message.replace("[", r"\[").replace("]", r"\]")):
        lumimask.loads(document)


ranges = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1])), max_size=6)
masks = st.dictionaries(st.integers(1, 4), ranges).map(
    lambda d: {r: lumimask.merge_ranges(v) for r, v in d.items() if v}
)


def _set(mask) -> set:
    return {(run, n) for run, rs in mask.items() for a, b in rs for n in range(a, b + 1)}


@settings(max_examples=150, deadline=None)
@given(masks, masks)
def test_operations_agree_with_sets(a, b):
    assert _set(lumimask.union(a, b)) == _set(a) | _set(b)
    assert _set(lumimask.intersection(a, b)) == _set(a) & _set(b)
    assert _set(lumimask.difference(a, b)) == _set(a) - _set(b)
    assert lumimask.union(a, b) == lumimask.union(b, a)
    assert lumimask.intersection(a, b) == lumimask.intersection(b, a)
    assert lumimask.union(lumimask.difference(a, b), lumimask.intersection(a, b)) == lumimask.union(a, {})
    assert lumimask.count(a) == len(_set(a))
    assert lumimask.dumps(lumimask.loads(lumimask.dumps(a))) == lumimask.dumps(a)
