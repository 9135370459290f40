"""Splitting a task's labels for publication, on plain data: a label per lumisection, whole runs to train or
test, and the Public or Private mark of each test row.

Rows are labelled bad (1) unless the task's golden JSON holds them (`label_rows`), so that the good
lumisections of a version are the golden JSON by construction. Runs go whole to train or test
(`split_runs`); test rows are marked Public or Private by a seeded draw within each label (`usage`).
The same inputs and seed always give the same split.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.models.runs import CONDITIONS
from app.services.certification import lumimask


@dataclass(frozen=True)
class Row:
    """One published lumisection: run, number, conditions (in CONDITIONS order) and label (bad = 1)."""

    run: int
    number: int
    conditions: tuple
    label: int

    @property
    def id(self) -> str:
        """Stable across versions: the run and lumisection numbers."""
        return f"{self.run}_{self.number}"

    @property
    def recorded_lumi(self) -> float | None:
        """The lumisection's recorded luminosity, the weight of its row in scores."""
        return self.conditions[CONDITIONS.index("recorded_lumi")]


def label_rows(lumisections: Iterable[Sequence], good: lumimask.Mask) -> list[Row]:
    """Rows from (run, number, *conditions) tuples: label 0 when the golden mask holds them, else 1."""
    return [
        Row(int(run), int(number), tuple(conditions), 0 if lumimask.contains(good, run, number) else 1)
        for run, number, *conditions in lumisections
    ]


def split_runs(
    counts: Mapping[int, tuple[int, int]], test_fraction: float, seed: int, *, trials: int = 16, steps: int = 2000
) -> frozenset[int]:
    """The runs of the test side: whole runs, about test_fraction of the lumisections, bad shares alike.

    counts maps a run to (lumisections, bad lumisections). A seeded search from shuffled orders: a greedy
    fill, then random moves and swaps of runs, kept when they bring the test side closer to holding
    test_fraction of all lumisections and of the bad ones, then kept when they shrink the gap: the distance
    of the fraction from its target plus the difference of the bad shares. The smallest gap wins. The same
    counts and seed always give the same split, and both sides hold at least one run.
    """
    runs = sorted(run for run, (n, _) in counts.items() if n > 0)
    if len(runs) < 2:
        raise ValueError("a split by run needs at least two runs with lumisections")
    total = sum(counts[run][0] for run in runs)
    bad = sum(counts[run][1] for run in runs)
    steps = min(steps, 200 * len(runs))

    def target(n: int, b: int) -> float:
        # Unlike the gap between the bad shares, this distance shrinks steadily as runs are added.
        if n in (0, total):
            return math.inf
        return abs(n / total - test_fraction) + (abs(b / bad - test_fraction) if bad else 0.0)

    def gap(n: int, b: int) -> float:
        if n in (0, total):
            return math.inf
        return abs(n / total - test_fraction) + abs(b / n - (bad - b) / (total - n))

    rng = random.Random(seed)
    best: list[int] = []
    best_gap = math.inf
    for _ in range(trials):
        order = runs[:]
        rng.shuffle(order)
        test: list[int] = []
        n = b = 0
        for run in order:
            if target(n + counts[run][0], b + counts[run][1]) < target(n, b):
                test.append(run)
                n, b = n + counts[run][0], b + counts[run][1]
        chosen = set(test)
        train = [run for run in order if run not in chosen]
        test, n, b = _improve(test, train, counts, n, b, target, rng, steps)
        test, n, b = _improve(test, train, counts, n, b, gap, rng, steps)
        if gap(n, b) < best_gap:
            best, best_gap = test, gap(n, b)
    return frozenset(best)


def _improve(test, train, counts, n, b, cost, rng: random.Random, steps: int) -> tuple[list[int], int, int]:
    """Random moves of one run to the other side, or swaps of two, kept when the cost drops.

    Stops after `steps` moves, or sooner when many moves in a row (more than a few per run) brought nothing.
    """
    current, idle, patience = cost(n, b), 0, 20 * (len(test) + len(train))
    for _ in range(steps):
        if idle > patience:
            break
        i, j = rng.randrange(len(test)), rng.randrange(len(train))
        move = rng.randrange(3)  # 0: test run to train, 1: train run to test, 2: swap them
        gained, lost = (train[j] if move else None), (test[i] if move != 1 else None)
        dn = (counts[gained][0] if gained is not None else 0) - (counts[lost][0] if lost is not None else 0)
        dbad = (counts[gained][1] if gained is not None else 0) - (counts[lost][1] if lost is not None else 0)
        candidate = cost(n + dn, b + dbad)
        if candidate >= current:
            idle += 1
            continue
        n, b, current, idle = n + dn, b + dbad, candidate, 0
        if move == 2:
            test[i], train[j] = train[j], test[i]
        elif move == 0:
            train.append(test[i])
            test[i] = test[-1]
            test.pop()
        else:
            test.append(train[j])
            train[j] = train[-1]
            train.pop()
    return test, n, b


def usage(labels: Sequence[int], public_share: float, seed: int) -> list[str]:
    """Public or Private for each test row: a seeded draw of public_share of the rows of each label.

    Drawing within each label keeps both labels on both sides whenever a label has two rows or more.
    """
    rng = random.Random(seed)
    marks = ["Private"] * len(labels)
    for value in sorted(set(labels)):
        rows = [i for i, label in enumerate(labels) if label == value]
        k = round(public_share * len(rows))
        if len(rows) >= 2:
            k = min(max(k, 1), len(rows) - 1)
        for i in rng.sample(rows, k):
            marks[i] = "Public"
    return marks
