"""The public/private split: deterministic per id and seed, whatever the row order or the process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import scorers
from scorers.split import hashed_public_mask

IDS = [f"run315257_ls{i}" for i in range(5000)]


def public_ids(frame: pd.DataFrame, fraction=0.3, seed=42) -> set:
    solution = scorers.Solution.load(frame.to_csv(index=False).encode(), public_fraction=fraction, split_seed=seed)
    return set(np.asarray(solution.ids.to_pylist())[solution.public])


def test_fraction_is_respected_and_sides_are_disjoint():
    frame = pd.DataFrame({"id": IDS, "label": np.arange(5000) % 2})
    solution = scorers.Solution.load(frame.to_csv(index=False).encode(), public_fraction=0.3, split_seed=42)
    assert abs(solution.public.mean() - 0.3) < 0.03
    assert not (solution.public & solution.private).any() and (solution.public | solution.private).all()


def test_split_is_stable_under_row_shuffling():
    frame = pd.DataFrame({"id": IDS, "label": np.arange(5000) % 2})
    assert public_ids(frame) == public_ids(frame.sample(frac=1, random_state=9))
    assert public_ids(frame) == public_ids(frame.iloc[:2500]) | public_ids(frame.iloc[2500:])


def test_seed_changes_the_split():
    frame = pd.DataFrame({"id": IDS, "label": 0})
    assert public_ids(frame, seed=1) != public_ids(frame, seed=2)


def test_integer_and_text_ids_land_alike():
    as_int = hashed_public_mask(pa.array(np.arange(1000)), 0.5, 7)
    as_text = hashed_public_mask(pa.array([str(i) for i in range(1000)]), 0.5, 7)
    assert (as_int == as_text).all()


def test_split_is_the_same_in_another_process():
    code = (
        "import pyarrow as pa; from scorers.split import hashed_public_mask; "
        f"print(''.join('1' if v else '0' for v in hashed_public_mask(pa.array({IDS[:300]!r}), 0.3, 42)))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout.strip()
    here = "".join("1" if v else "0" for v in hashed_public_mask(pa.array(IDS[:300]), 0.3, 42))
    assert other == here


def test_usage_column_decides_when_present():
    content = b"id,label,Usage\na,1,Public\nb,0,private\nc,1,Ignored\nd,0,PUBLIC\n"
    solution = scorers.Solution.load(content, public_fraction=0.0)
    assert solution.public.tolist() == [True, False, False, True]
    assert solution.private.tolist() == [False, True, False, False]
