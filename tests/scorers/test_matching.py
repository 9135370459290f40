"""Matching submission rows to solution rows: fast paths agree with the exact one and know their limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import scorers
from scorers import hashing, matching
from scorers import solution as solution_module
from tests.scorers.files import as_csv, as_parquet

N = 3000


def case(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids of the kind, in an order that is not sorted, with labels and scores."""
    rng = np.random.default_rng(8)
    ids = {
        "dense": rng.permutation(N) + 100,
        "sparse": rng.permutation(N) * 1_000_003 - 5,
        "text": np.array([f"run{i % 7}_ls{i}" for i in rng.permutation(N)]),
    }[kind]
    y = (rng.random(N) < 0.3).astype(int)
    return ids, y, (y * 0.4 + rng.random(N)).round(2)


@pytest.mark.parametrize("kind", ["dense", "sparse", "text"])
def test_any_row_order_gives_the_same_scores(kind):
    ids, y, scores = case(kind)
    solution = scorers.Solution.load(as_csv(pd.DataFrame({"id": ids, "label": y})), split_seed=3)
    same_order = pd.DataFrame({"id": ids, "label": scores})
    expected = scorers.get("roc_auc").score(solution, as_csv(same_order))
    rng = np.random.default_rng(1)
    for _ in range(3):  # one loaded solution serves many submissions
        shuffled = same_order.sample(frac=1, random_state=rng.integers(1000))
        assert scorers.get("roc_auc").score(solution, as_csv(shuffled)) == expected
        assert scorers.get("roc_auc").score(solution, as_parquet(shuffled)) == expected


def test_predictions_land_on_their_own_rows():
    ids, y, scores = case("sparse")
    solution = scorers.Solution.load(as_csv(pd.DataFrame({"id": ids, "label": y})))
    order = np.random.default_rng(2).permutation(N)
    shuffled = pd.DataFrame({"id": ids[order], "label": scores[order]})
    predictions = scorers.read_submission(as_csv(shuffled), solution)
    np.testing.assert_array_equal(predictions, scores)


def test_integer_solution_with_text_submission_ids_compares_text():
    ids, y, scores = case("dense")
    solution = scorers.Solution.load(as_csv(pd.DataFrame({"id": ids, "label": y})))
    as_text = pd.DataFrame({"id": ids.astype(str), "label": scores}).iloc[::-1]
    predictions = scorers.read_submission(as_parquet(as_text), solution)
    np.testing.assert_array_equal(predictions, scores)


def colliding(texts: pa.Array) -> np.ndarray:
    """A hash under which every id collides with every other."""
    return np.zeros(len(texts), dtype=np.uint64)


def test_hash_collisions_fall_back_to_exact_matching(monkeypatch):
    monkeypatch.setattr(matching, "key_hashes", colliding)
    monkeypatch.setattr(solution_module, "key_hashes", colliding)
    ids, y, scores = case("text")
    solution = scorers.Solution.load(as_csv(pd.DataFrame({"id": ids, "label": y})))
    shuffled = pd.DataFrame({"id": ids, "label": scores}).iloc[::-1]
    np.testing.assert_array_equal(scorers.read_submission(as_csv(shuffled), solution), scores)
    twice = pd.concat([shuffled.iloc[1:], shuffled.iloc[[5]]])
    with pytest.raises(scorers.ValidationError, match=f"1 id is duplicated: {shuffled['id'].iloc[5]}"):
        scorers.read_submission(as_csv(twice), solution)
    with pytest.raises(scorers.ValidationError, match="ids must be unique; 1 id is duplicated: a"):
        scorers.Solution.load(b"id,label\na,1\nb,0\na,1\n")


def test_an_unknown_id_hashing_like_a_missing_one_is_still_caught(monkeypatch):
    ids, y, scores = case("text")

    def impostor(texts: pa.Array) -> np.ndarray:
        """Like the real hash, except that 'impostor' hashes like the solution's first id."""
        hashes = hashing.key_hashes(texts)
        hashes[np.asarray(texts.to_pylist(), dtype=object) == "impostor"] = hashing.key_hash(str(ids[0]))
        return hashes

    monkeypatch.setattr(matching, "key_hashes", impostor)
    solution = scorers.Solution.load(as_csv(pd.DataFrame({"id": ids, "label": y})))
    frame = pd.DataFrame({"id": ids, "label": scores}).iloc[::-1]
    frame.loc[0, "id"] = "impostor"
    with pytest.raises(scorers.ValidationError) as error:
        scorers.read_submission(as_csv(frame), solution)
    assert str(error.value) == (
        "1 id is not in the test set: impostor. "
        f"Every id of the test set needs a prediction; 1 id is missing: {ids[0]}."
    )
