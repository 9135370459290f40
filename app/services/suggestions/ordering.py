"""Queue orders that follow the models: how uncertain the active sources are about a run, how much they
disagree on it, and the runs ranked best first with ties broken at random.

- Uncertainty of a run: 1 minus the mean distance |score - threshold| over every lumisection every active
  source scored in the run (each source with its own threshold). 1 means every score sits on its threshold;
  the most uncertain runs come first.
- Disagreement of a run: the share of its lumisections, among those scored by at least two active sources,
  on which the sources' verdicts (bad: score at or above the source's threshold) are not unanimous. The runs
  the sources disagree on most come first.
Runs with no value (no active source scored them; fewer than two for disagreement) come last.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.models.suggestions import QueueOrder


@dataclass(frozen=True)
class SourceRun:
    """One active source's scores of one run, with the source's threshold."""

    lumisections: np.ndarray
    scores: np.ndarray
    threshold: float


@dataclass(frozen=True)
class RunStat:
    """A source's summary of one run, as SourceRunStat stores it."""

    lumisections: int
    mean_distance: float
    bad_lumisections: int


@dataclass(frozen=True)
class RunRankStats:
    """What the queue orders read of one run."""

    uncertainty: float | None
    disagreement: float | None


def run_stat(scores: Sequence[float] | np.ndarray, threshold: float) -> RunStat:
    """A source's summary of its scores of one run at a threshold."""
    values = np.asarray(scores, dtype=np.float64)
    if not len(values):
        return RunStat(0, 0.0, 0)
    distance = float(np.mean(np.abs(values - threshold)))
    return RunStat(len(values), distance, int(np.count_nonzero(values >= threshold)))


def uncertainty(stats: Sequence[RunStat]) -> float | None:
    """1 - the mean |score - threshold| over every scored lumisection of the run's sources; None if none."""
    counted = sum(stat.lumisections for stat in stats)
    if not counted:
        return None
    return 1.0 - sum(stat.mean_distance * stat.lumisections for stat in stats) / counted


@dataclass(frozen=True)
class RunVerdicts:
    """A source's verdicts on one run: of the lumisections numbered first, first + 1, ..., which it scored, and
    which it calls bad (scored at or above its threshold)."""

    first: int
    scored: np.ndarray  # bool
    bad: np.ndarray  # bool, as long as scored

    @classmethod
    def of(cls, source: SourceRun) -> RunVerdicts:
        """The verdicts of a source's scores of a run."""
        numbers = np.asarray(source.lumisections, dtype=np.int64)
        if not len(numbers):
            return cls(0, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))
        first = int(numbers.min())
        scored = np.zeros(int(numbers.max()) - first + 1, dtype=bool)
        bad = np.zeros_like(scored)
        scored[numbers - first] = True
        bad[numbers - first] = np.asarray(source.scores, dtype=np.float64) >= source.threshold
        return cls(first, scored, bad)


def disagreement(sources: Sequence[SourceRun]) -> float | None:
    """The share of lumisections scored by two sources or more on which their verdicts differ; None if none."""
    return disagreement_of_verdicts([RunVerdicts.of(source) for source in sources])


def disagreement_of_verdicts(verdicts: Sequence[RunVerdicts]) -> float | None:
    """`disagreement` from the sources' verdicts on the run, as SourceRunStat keeps them."""
    verdicts = [v for v in verdicts if len(v.scored)]
    if len(verdicts) < 2:
        return None
    low = min(v.first for v in verdicts)
    high = max(v.first + len(v.scored) for v in verdicts)
    voters = np.zeros(high - low, dtype=np.int32)
    bad_votes = np.zeros_like(voters)
    for v in verdicts:
        voters[v.first - low : v.first - low + len(v.scored)] += v.scored
        bad_votes[v.first - low : v.first - low + len(v.bad)] += v.bad & v.scored
    shared = voters >= 2
    split = shared & (bad_votes > 0) & (bad_votes < voters)
    return disagreement_share(int(np.count_nonzero(split)), int(np.count_nonzero(shared)))


def disagreement_share(split: int, shared: int) -> float | None:
    """The share of split verdicts among lumisections scored by two sources or more."""
    return split / shared if shared else None


def rank(order: QueueOrder | str, stats: Mapping[int, RunRankStats], rng: random.Random) -> list[int]:
    """The runs best first in the order; equal values in an order that follows the models in random order."""
    order = QueueOrder(order)
    runs = sorted(stats)
    if order is QueueOrder.RUN:
        return runs
    # One draw per run in run-number order: the same rng state gives the same ranking.
    tiebreak = {run: rng.random() for run in runs}

    def key(run: int) -> tuple[bool, float, float]:
        value = getattr(stats[run], order.value)
        return (value is None, -(value or 0.0), tiebreak[run])

    return sorted(runs, key=key)
