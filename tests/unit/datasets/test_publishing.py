"""The pure core of publishing: labels from the golden mask, the split by run, Usage marks and the files."""

from __future__ import annotations

import io
import random

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scorers
from app.models.runs import CONDITIONS
from app.services.datasets.publishing import default_slug
from app.services.datasets.splitting import Row, label_rows, split_runs, usage
from app.services.datasets.version_files import Features, build_files


def sides(counts: dict[int, tuple[int, int]], test: frozenset[int]) -> tuple[float, float, float]:
    """The test fraction of the lumisections and the bad share of train and of test."""
    total = sum(n for n, _ in counts.values())
    n_test = sum(counts[run][0] for run in test)
    bad_test = sum(counts[run][1] for run in test)
    bad_train = sum(b for _, b in counts.values()) - bad_test
    return n_test / total, bad_train / (total - n_test), bad_test / n_test


def realistic_counts(seed: int, runs: int = 60) -> dict[int, tuple[int, int]]:
    """Runs as a year of certification gives them: most all good, some with bad ranges, a few bad whole."""
    rng = random.Random(seed)
    counts = {}
    for i in range(runs):
        n = rng.randint(20, 1500)
        kind = rng.random()
        bad = 0 if kind < 0.7 else n if kind > 0.93 else rng.randint(1, n // 3)
        counts[315000 + i] = (n, bad)
    return counts


counts_strategy = st.dictionaries(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=0, max_value=400).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
    min_size=2,
    max_size=25,
).filter(lambda counts: sum(1 for n, _ in counts.values() if n) >= 2)


@settings(max_examples=60, deadline=None)
@given(counts_strategy, st.floats(min_value=0.05, max_value=0.95), st.integers(min_value=0, max_value=2**32))
def test_split_never_puts_a_run_on_both_sides(counts, test_fraction, seed):
    test = split_runs(counts, test_fraction, seed)
    with_lumisections = {run for run, (n, _) in counts.items() if n}
    assert test < with_lumisections and test  # whole runs, each side at least one
    assert split_runs(counts, test_fraction, seed) == test


@pytest.mark.parametrize("seed", range(8))
def test_bad_shares_are_alike_and_the_test_fraction_is_kept(seed):
    counts = realistic_counts(seed)
    fraction, bad_train, bad_test = sides(counts, split_runs(counts, 0.3, seed))
    assert abs(fraction - 0.3) < 0.02
    assert abs(bad_train - bad_test) < 0.02


@pytest.mark.parametrize("test_fraction", [0.1, 0.5])
def test_test_fraction_is_configurable(test_fraction):
    counts = realistic_counts(11)
    fraction, bad_train, bad_test = sides(counts, split_runs(counts, test_fraction, 3))
    assert abs(fraction - test_fraction) < 0.02 and abs(bad_train - bad_test) < 0.03


def test_split_is_the_same_for_a_seed_and_changes_with_it():
    counts = realistic_counts(5)
    assert split_runs(counts, 0.3, 42) == split_runs(dict(reversed(list(counts.items()))), 0.3, 42)
    assert len({split_runs(counts, 0.3, seed) for seed in range(6)}) > 1


def test_few_runs_get_the_best_split_there_is():
    counts = {1: (100, 0), 2: (100, 50), 3: (100, 0), 4: (100, 50), 5: (100, 0), 6: (100, 0), 7: (100, 0)}
    fraction, bad_train, bad_test = sides(counts, split_runs(counts, 0.3, 0))
    # Only two runs hold bad lumisections: the best split takes two of the seven runs (about 0.3), one of them
    # half bad, rather than three runs or none of the bad ones.
    assert fraction == pytest.approx(2 / 7) and bad_test == pytest.approx(0.25)
    assert bad_train == pytest.approx(50 / 500)


def test_a_single_run_cannot_be_split():
    with pytest.raises(ValueError, match="at least two runs"):
        split_runs({1: (100, 3), 2: (0, 0)}, 0.3, 0)


def test_usage_keeps_both_labels_on_both_sides():
    labels = [0] * 98 + [1] * 2
    marks = usage(labels, 0.3, seed=4)
    assert marks.count("Public") == 30  # 29 of the good rows, one bad row
    assert {(label, mark) for label, mark in zip(labels, marks, strict=True)} == {
        (0, "Public"),
        (0, "Private"),
        (1, "Public"),
        (1, "Private"),
    }
    assert usage(labels, 0.3, seed=4) == marks and usage(labels, 0.3, seed=5) != marks


def test_labels_follow_the_golden_mask():
    conditions = (None,) * len(CONDITIONS)
    rows = label_rows([(7, 1, *conditions), (7, 2, *conditions), (8, 1, *conditions)], {7: [(2, 5)]})
    assert [(r.id, r.label) for r in rows] == [("7_1", 1), ("7_2", 0), ("8_1", 1)]


def make_rows(lumi: float | None = 2e-4) -> list[Row]:
    rng = random.Random(1)
    rows = []
    for run in range(1, 9):
        for number in range(1, 41):
            conditions = dict.fromkeys(CONDITIONS, True) | {
                "delivered_lumi": lumi,
                "recorded_lumi": lumi,
                "pileup": 40.0,
                "dcs_ok": None,
            }
            label = int(run % 3 == 0 and rng.random() < 0.5)
            rows.append(Row(run, number, tuple(conditions[c] for c in CONDITIONS), label))
    return rows


def test_files_keep_runs_whole_and_the_scorer_accepts_them():
    rows = make_rows()
    counts = {}
    for row in rows:
        n, b = counts.get(row.run, (0, 0))
        counts[row.run] = (n + 1, b + row.label)
    test_runs = split_runs(counts, 0.3, 2)
    files, summary = build_files(rows, test_runs, 0.3, 2)
    read = {name: pd.read_csv(io.BytesIO(content), dtype={"id": str}) for name, content in files.items()}
    assert set(read["train.csv"]["run_number"]).isdisjoint(read["test.csv"]["run_number"])
    assert set(read["test.csv"]["run_number"]) == test_runs
    assert read["train.csv"]["physics_flag"].tolist() == [1] * len(read["train.csv"])  # booleans as 1 and 0
    assert read["train.csv"]["dcs_ok"].isna().all()  # unknown stays empty
    assert summary.weighted and read["solution.csv"]["weight"].eq(2e-4).all()
    assert summary.train.lumisections + summary.test.lumisections == len(rows)

    solution = scorers.Solution.load(io.BytesIO(files["solution.csv"]), target_column="label")
    scorer = scorers.get("roc_auc")
    scorer.check_solution(solution)
    result = scorer.score(solution, io.BytesIO(files["sample_submission.csv"]))
    assert (result.public, result.private) == (pytest.approx(0.5), pytest.approx(0.5))
    assert (result.n_public, result.n_private) == (summary.public, summary.private)


def test_without_recorded_luminosity_the_solution_is_unweighted():
    rows = make_rows(lumi=None)
    files, summary = build_files(rows, frozenset({1, 2}), 0.3, 0)
    assert not summary.weighted
    assert files["solution.csv"].splitlines()[0] == b"id,label,Usage"


def test_dataset_slug_from_a_task_name():
    assert default_slug("Express 2018/A -- ReReco") == "express-2018-a-rereco"


def test_features_are_published_beside_the_conditions_and_empty_where_missing():
    conditions = tuple(1.0 if c == "recorded_lumi" else None for c in CONDITIONS)
    rows = [Row(run, number, conditions, label) for run, number, label in [(1, 1, 0), (1, 2, 1), (2, 1, 0), (2, 2, 0)]]
    frame = pd.DataFrame({"run_number": [1, 1, 2], "lumisection": [1, 2, 1], "zphi__entries": [10.0, 0.0, 12.5]})
    files, _ = build_files(rows, frozenset({2}), 0.5, seed=1, features=Features.from_frame(frame))
    train = pd.read_csv(io.BytesIO(files["train.csv"]))
    test = pd.read_csv(io.BytesIO(files["test.csv"]))
    assert list(train.columns[-2:]) == ["zphi__entries", "label"] and list(test.columns)[-1] == "zphi__entries"
    assert train["zphi__entries"].tolist() == [10.0, 0.0]
    assert test["zphi__entries"].iloc[0] == 12.5 and pd.isna(test["zphi__entries"].iloc[1])  # no features: empty
