"""The public/private split: Usage if given, else a hash of each id and the seed, in any order or process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scorers
from scorers.hashing import key_hash, key_hashes
from scorers.split import position, public_mask
from tests.scorers.files import as_csv, as_parquet

IDS = [f"run315257_ls{i}" for i in range(5000)]
REPO = Path(__file__).resolve().parents[2]


def public_ids(frame: pd.DataFrame, fraction: float = 0.3, seed: int = 42) -> set:
    solution = scorers.Solution.load(as_csv(frame), public_fraction=fraction, split_seed=seed)
    return set(np.asarray(solution.ids.to_pylist(), dtype=object)[solution.public])


def test_fraction_is_respected_and_sides_are_disjoint():
    solution = scorers.Solution.load(as_csv(pd.DataFrame({"id": IDS, "label": 0})), split_seed=42)
    assert abs(solution.public.mean() - 0.3) < 0.02
    assert not (solution.public & solution.private).any() and (solution.public | solution.private).all()


def test_split_is_stable_under_row_shuffling_and_subsets():
    frame = pd.DataFrame({"id": IDS, "label": np.arange(5000) % 2})
    assert public_ids(frame) == public_ids(frame.sample(frac=1, random_state=9))
    assert public_ids(frame) == public_ids(frame.iloc[:2500]) | public_ids(frame.iloc[2500:])


def test_seed_changes_the_split():
    frame = pd.DataFrame({"id": IDS, "label": 0})
    one, two = public_ids(frame, seed=1), public_ids(frame, seed=2)
    assert one != two and abs(len(one & two) - 0.09 * 5000) < 100  # independent draws overlap by 0.3 x 0.3


def test_integer_ids_land_where_their_text_does():
    numbers = np.arange(1000) * 7919
    as_text = pa.array([str(i) for i in numbers])
    assert (public_mask(pa.array(numbers), 0.5, 7) == public_mask(as_text, 0.5, 7)).all()
    from_csv = scorers.Solution.load(as_csv(pd.DataFrame({"id": numbers, "label": 0})), split_seed=7)
    from_parquet = scorers.Solution.load(
        as_parquet(pd.DataFrame({"id": numbers.astype(str), "label": 0})), split_seed=7
    )
    assert (from_csv.public == from_parquet.public).all()


def test_split_is_the_same_in_another_process():
    code = (
        "import pyarrow as pa; from scorers.split import public_mask; "
        f"print(''.join('1' if v else '0' for v in public_mask(pa.array({IDS[:300]!r}), 0.3, 42)))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    here = "".join("1" if v else "0" for v in public_mask(pa.array(IDS[:300]), 0.3, 42))
    assert other.stdout.strip() == here


def test_split_is_pinned_down():
    """Not just consistent: any later version must give these positions, or competitions change sides."""
    assert key_hash("") == 0xE220A8397B1DCDAF  # splitmix64's published first output from a zero state
    positions = [round(position(text, 42), 6) for text in ("run315257_ls1", "1", "")]
    assert positions == [0.877623, 0.722125, 0.800656]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=40), st.integers(-(2**70), 2**70))
def test_vectorised_hash_equals_its_plain_definition(texts, seed):
    assert key_hashes(pa.array(texts)).tolist() == [key_hash(text) for text in texts]
    expected = [position(text, seed) < 0.4 for text in texts]
    assert public_mask(pa.array(texts), 0.4, seed).tolist() == expected


def test_usage_column_decides_when_present():
    content = b"id,label,Usage\na,1,Public\nb,0,private\nc,1,Ignored\nd,0,PUBLIC \n"
    solution = scorers.Solution.load(content, public_fraction=0.0)
    assert solution.public.tolist() == [True, False, False, True]
    assert solution.private.tolist() == [False, True, False, False]


def test_ignored_rows_count_on_no_side_but_need_a_prediction():
    frame = pd.DataFrame({"id": range(6), "label": [0, 1, 0, 1, 1, 0]})
    frame["Usage"] = ["Public", "Public", "Private", "Private", "Ignored", "Ignored"]
    solution = scorers.Solution.load(as_csv(frame))
    # The ignored rows are ranked upside down, and that changes nothing.
    result = scorers.get("roc_auc").score(solution, np.array([0.1, 0.9, 0.2, 0.8, 0.0, 1.0]))
    assert (result.public, result.private, result.n_public, result.n_private) == (1.0, 1.0, 2, 2)
    with pytest.raises(scorers.ValidationError, match="2 ids are missing: 4, 5"):
        scorers.get("roc_auc").score(solution, b"id,label\n0,0.1\n1,0.9\n2,0.2\n3,0.8\n")


@pytest.mark.parametrize(("fraction", "empty"), [(0.0, "public"), (1.0, "private")])
def test_a_side_without_rows_scores_none(fraction, empty):
    frame = pd.DataFrame({"id": range(8), "label": [0, 1] * 4})
    solution = scorers.Solution.load(as_csv(frame), public_fraction=fraction)
    result = scorers.get("roc_auc").score(solution, np.linspace(0, 1, 8))
    assert getattr(result, empty) is None and getattr(result, f"n_{empty}") == 0
    assert set(result.details) == {"public", "private"} - {empty}


def test_fraction_outside_the_unit_interval_is_refused():
    with pytest.raises(scorers.ValidationError, match=r"public fraction must lie between 0 and 1, not 1\.5"):
        scorers.Solution.load(b"id,label\na,1\n", public_fraction=1.5)
