"""Publishing a labelling task's approved labels as a dataset version.

A published version holds one row per lumisection of every run with an approved
certification in the task, labelled bad (1) unless the task's golden JSON holds
it, so that its good lumisections are the task's golden JSON by construction.
Runs go whole to train or test (`split_runs`, a pure function); test rows are
marked Public or Private by a seeded draw within each label and weighted by
recorded luminosity. Everything is checked and built before anything is written.
Competitions on a published version are built by `dataset_competitions`.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

import scorers
from app.extensions import db
from app.models import (
    Certification,
    Dataset,
    DatasetFile,
    DatasetVersion,
    FileKind,
    LabellingTask,
    Lumisection,
    ReviewState,
    User,
)
from app.models.runs import CONDITIONS
from app.services.certification import lumimask
from app.services.certification.workflow import audit, golden_mask
from app.services.competitions.bundles import SLUG_PATTERN
from app.services.storage import get_storage

ID, TARGET, USAGE, WEIGHT = "id", "label", "Usage", "weight"
FILES = (
    ("train.csv", FileKind.PUBLIC),
    ("test.csv", FileKind.PUBLIC),
    ("sample_submission.csv", FileKind.PUBLIC),
    ("solution.csv", FileKind.SOLUTION),
)
DEFAULT_TEST_FRACTION = 0.3
DEFAULT_PUBLIC_SHARE = 0.3


class Refused(ValueError):
    """A publication or competition was refused and nothing was written; ``problems`` says why."""

    def __init__(self, problems: list[str], status: int = 400) -> None:
        super().__init__("; ".join(problems))
        self.problems, self.status = problems, status


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


@dataclass(frozen=True)
class Features:
    """Columns published beside the conditions, such as monitoring-element summaries, by (run, lumisection)."""

    names: tuple[str, ...]
    values: Mapping[tuple[int, int], tuple]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Features:
        """From a table with run_number and lumisection columns; every other column is a feature."""
        names = tuple(str(c) for c in frame.columns if c not in ("run_number", "lumisection"))
        keys = zip(frame["run_number"].astype(int), frame["lumisection"].astype(int), strict=True)
        rows = frame[list(names)].astype(object).where(frame[list(names)].notna(), None)
        return cls(names, dict(zip(keys, rows.itertuples(index=False, name=None), strict=True)))

    def of(self, row: Row) -> tuple:
        """The row's features; empty cells for a lumisection without them."""
        return self.values.get((row.run, row.number), (None,) * len(self.names))


NO_FEATURES = Features((), {})


@dataclass(frozen=True)
class Side:
    """One side of a split: how many runs, lumisections and bad lumisections it holds."""

    runs: int
    lumisections: int
    bad: int

    @property
    def bad_share(self) -> float:
        """The fraction of its lumisections labelled bad."""
        return self.bad / self.lumisections if self.lumisections else 0.0

    @classmethod
    def of(cls, rows: Iterable[tuple[int, int]]) -> Side:
        """The side holding these (run, label) rows."""
        rows = list(rows)
        return cls(len({run for run, _ in rows}), len(rows), sum(1 for _, label in rows if label))


@dataclass(frozen=True)
class Summary:
    """What a published version holds on each side, and how its test rows are scored."""

    train: Side
    test: Side
    public: int
    private: int
    weighted: bool


# Pure core: labels, the split by run, the public/private marks, the files.


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


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return int(value) if isinstance(value, bool) else value


def _cells(row: Row, features: Features) -> list:
    return [row.id, row.run, row.number, *map(_cell, row.conditions), *map(_cell, features.of(row))]


def _csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def build_files(
    rows: Sequence[Row], test_runs: frozenset[int], public_share: float, seed: int, features: Features = NO_FEATURES
) -> tuple[dict[str, bytes], Summary]:
    """The four files of a version and what they hold; weights only when every test row has a luminosity."""
    train = [r for r in rows if r.run not in test_runs]
    test = [r for r in rows if r.run in test_runs]
    header = [ID, "run_number", "lumisection", *CONDITIONS, *features.names]
    marks = usage([r.label for r in test], public_share, seed)
    weighted = all(r.recorded_lumi is not None for r in test)
    # OMS records tiny negative luminosities where there is none; a weight is never negative.
    weights = [[max(r.recorded_lumi or 0.0, 0.0)] if weighted else [] for r in test]
    files = {
        "train.csv": _csv([*header, TARGET], ([*_cells(r, features), r.label] for r in train)),
        "test.csv": _csv(header, (_cells(r, features) for r in test)),
        "sample_submission.csv": _csv([ID, TARGET], ([r.id, 0.5] for r in test)),
        "solution.csv": _csv(
            [ID, TARGET, USAGE, *([WEIGHT] if weighted else [])],
            ([r.id, r.label, mark, *weight] for r, mark, weight in zip(test, marks, weights, strict=True)),
        ),
    }
    summary = Summary(
        train=Side.of((r.run, r.label) for r in train),
        test=Side.of((r.run, r.label) for r in test),
        public=marks.count("Public"),
        private=marks.count("Private"),
        weighted=weighted,
    )
    return files, summary


def default_slug(name: str) -> str:
    """A dataset slug from a task name: 'Express 2018/A' gives 'express-2018-a'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100].strip("-")


# Publishing: the database and storage shell around the core.


def approved_runs(task: LabellingTask) -> list[int]:
    """Runs with an approved certification in the task: the ones a publication holds."""
    return list(
        db.session.execute(
            db.select(Certification.run_number)
            .where(Certification.task_id == task.id, Certification.review_state == ReviewState.APPROVED)
            .distinct()
            .order_by(Certification.run_number)
        ).scalars()
    )


def task_rows(task: LabellingTask) -> list[Row]:
    """Every lumisection of the task's approved runs, labelled by the task's golden JSON."""
    runs = approved_runs(task)
    if not runs:
        return []
    query = (
        db.select(Lumisection.run_number, Lumisection.number, *(getattr(Lumisection, c) for c in CONDITIONS))
        .where(Lumisection.run_number.in_(runs))
        .order_by(Lumisection.run_number, Lumisection.number)
    )
    return label_rows(db.session.execute(query), golden_mask(task))


def _check_settings(slug: str, title: str | None, test_fraction: float, public_share: float, seed: int) -> list[str]:
    problems = []
    if not SLUG_PATTERN.match(slug):
        problems.append(f"Dataset slug {slug!r} must be 3 to 100 lowercase letters, digits and dashes.")
    if title is not None and len(title) > 200:
        problems.append("The title is longer than 200 characters.")
    for name, value in (("test fraction", test_fraction), ("public share", public_share)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            problems.append(f"The {name} must be a number strictly between 0 and 1, not {value!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"The seed must be a whole number of at least 0, not {seed!r}.")
    return problems


@dataclass(frozen=True)
class Published:
    """A new dataset version and what it holds."""

    version: DatasetVersion
    summary: Summary


def publish(
    task: LabellingTask,
    *,
    slug: str | None = None,
    title: str | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    public_share: float = DEFAULT_PUBLIC_SHARE,
    seed: int = 0,
    created_by: User | None = None,
    features: Features = NO_FEATURES,
    extra_files: Mapping[str, bytes] | None = None,
) -> Published:
    """Publish the task's approved labels as a new version of the dataset slug (created if new); committed.

    Refused, with nothing written, for bad settings, without approved labels or with fewer than two runs.
    features are published as columns of train.csv and test.csv; extra_files are stored as further public
    files (monitoring elements of the published lumisections, say).
    """
    slug = slug or default_slug(task.name)
    problems = _check_settings(slug, title, test_fraction, public_share, seed)
    if problems:
        raise Refused(problems)
    rows = task_rows(task)
    if not rows:
        reason = "approved certification" if not approved_runs(task) else "imported lumisection in its approved runs"
        raise Refused([f"Task {task.name!r} has no {reason}: there is nothing to publish."], 409)
    counts: dict[int, list[int]] = {}
    for row in rows:
        counts.setdefault(row.run, [0, 0])
        counts[row.run][0] += 1
        counts[row.run][1] += row.label
    if len(counts) < 2:
        raise Refused(
            [f"Only run {next(iter(counts))} has approved labels; a split by run needs at least two runs."], 409
        )
    test_runs = split_runs({run: (n, b) for run, (n, b) in counts.items()}, test_fraction, seed)
    files, summary = build_files(rows, test_runs, public_share, seed, features)
    clashes = sorted(set(extra_files or {}) & {name for name, _ in FILES})
    if clashes:
        raise Refused([f"Extra files cannot replace {', '.join(clashes)}."])
    files |= dict(extra_files or {})
    # The scorers must read the solution as the workers will, before it is stored.
    scorers.Solution.load(io.BytesIO(files["solution.csv"]), id_column=ID, target_column=TARGET)
    notes = (
        f"Approved labels of task {task.name!r} (#{task.id}): runs split by run with test fraction "
        f"{test_fraction:g} and seed {seed}. Train: {summary.train.runs} runs, {summary.train.lumisections} "
        f"lumisections, {summary.train.bad_share:.1%} bad. Test: {summary.test.runs} runs, "
        f"{summary.test.lumisections} lumisections, {summary.test.bad_share:.1%} bad, "
        f"{summary.public} public and {summary.private} private rows, "
        + ("weighted by recorded luminosity." if summary.weighted else "unweighted (recorded luminosity missing).")
    )
    version = _store(slug, title or task.name, notes, files, created_by, task)
    return Published(version, summary)


def _store(
    slug: str, title: str, notes: str, files: dict[str, bytes], created_by: User | None, task: LabellingTask
) -> DatasetVersion:
    """Reserve the version's number, store its files, then commit; on any failure delete what was stored."""
    dataset = db.session.execute(db.select(Dataset).where(Dataset.slug == slug)).scalar_one_or_none()
    if dataset is None:
        dataset = Dataset(slug=slug, title=title, created_by_id=created_by and created_by.id)
        db.session.add(dataset)
        number = 1
    else:
        latest = db.session.execute(
            db.select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset.id)
        ).scalar_one()
        number = (latest or 0) + 1
    version = DatasetVersion(
        dataset=dataset, number=number, notes=notes, task_id=task.id, published_by_id=created_by and created_by.id
    )
    db.session.add(version)
    try:
        # The unique slug and number make a concurrent publication wait here and fail before it stores
        # anything, so it never overwrites, or deletes, this version's files.
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Refused([f"Dataset {slug!r} was published by someone else at the same moment; try again."], 409) from None
    storage, stored = get_storage(), []
    try:
        extra = [(name, FileKind.PUBLIC) for name in files if name not in dict(FILES)]
        for position, (name, kind) in enumerate([*FILES, *extra]):
            key = f"{version.storage_prefix}/{kind.value}/{name}"
            stored.append(key)  # before the write: a failed write may still have left something
            result = storage.put(key, io.BytesIO(files[name]))
            version.files.append(
                DatasetFile(
                    kind=kind, name=name, position=position, storage_key=key, size=result.size, sha256=result.sha256
                )
            )
        after = {"dataset": slug, "version": number, "notes": notes}
        audit(created_by, "publish", "dataset_version", version.id, None, after)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in stored:
            storage.delete(key)
        raise
    return version


def _read(version: DatasetVersion, name: str, kind: FileKind, columns: list[str]) -> pd.DataFrame:
    file = next(f for f in version.files if f.name == name and f.kind is kind)
    with get_storage().open(file.storage_key) as handle:
        return pd.read_csv(io.BytesIO(handle.read()), usecols=columns, dtype={c: str for c in columns if c == ID})


def summary_of(version: DatasetVersion) -> Summary | None:
    """What a version published from a task holds, read back from its files; None for other versions."""
    names = {(f.name, f.kind) for f in version.files}
    if not set(FILES) <= names:
        return None
    train = _read(version, "train.csv", FileKind.PUBLIC, ["run_number", TARGET])
    test = _read(version, "test.csv", FileKind.PUBLIC, [ID, "run_number"])
    with get_storage().open(next(f for f in version.files if f.kind is FileKind.SOLUTION).storage_key) as handle:
        solution = pd.read_csv(io.BytesIO(handle.read()), dtype={ID: str})
    test = test.merge(solution, on=ID)
    return Summary(
        train=Side.of(zip(train["run_number"], train[TARGET], strict=True)),
        test=Side.of(zip(test["run_number"], test[TARGET], strict=True)),
        public=int((test[USAGE] == "Public").sum()),
        private=int((test[USAGE] == "Private").sum()),
        weighted=WEIGHT in solution.columns,
    )
