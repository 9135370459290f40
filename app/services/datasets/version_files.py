"""The files of a published dataset version: what ``build_files`` writes from labelled rows (``phase_files``
for a competition's later phase, every row on the test side), what ``summary_of`` reads back from them, and
the runs a version holds (``runs_of``).

train.csv and test.csv hold a row per lumisection (its id, run, number, conditions and any features; train
with its label), sample_submission.csv a score per test id, and solution.csv the test labels with their
Usage mark and, when every test row has one, their recorded luminosity as weight.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from app.models import DatasetVersion, FileKind
from app.models.runs import CONDITIONS
from app.services.datasets.splitting import Row, usage
from app.services.storage import get_storage

ID, TARGET, USAGE, WEIGHT = "id", "label", "Usage", "weight"
RUN_NUMBER = "run_number"
FILES = (
    ("train.csv", FileKind.PUBLIC),
    ("test.csv", FileKind.PUBLIC),
    ("sample_submission.csv", FileKind.PUBLIC),
    ("solution.csv", FileKind.SOLUTION),
)
MONITORING_ELEMENTS = "monitoring_elements.parquet"  # the histograms of the published runs, when stored


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


def test_header(features: Features = NO_FEATURES) -> list[str]:
    """The columns of test.csv: id, run and lumisection numbers, conditions, then the features."""
    return [ID, "run_number", "lumisection", *CONDITIONS, *features.names]


def test_csv(rows: Iterable[Row], features: Features = NO_FEATURES) -> bytes:
    """Rows as test.csv writes them, without labels (live competitions' pending.csv is written so too)."""
    return _csv(test_header(features), (_cells(r, features) for r in rows))


def _test_side(test: Sequence[Row], public_share: float, seed: int, features: Features) -> tuple[list, bool, dict]:
    """The Usage marks of the test rows, whether they are weighted, and the test file, sample and solution."""
    marks = usage([r.label for r in test], public_share, seed)
    weighted = all(r.recorded_lumi is not None for r in test)
    # OMS records tiny negative luminosities where there is none; a weight is never negative.
    weights = [[max(r.recorded_lumi or 0.0, 0.0)] if weighted else [] for r in test]
    files = {
        "test": test_csv(test, features),
        "sample": _csv([ID, TARGET], ([r.id, 0.5] for r in test)),
        "solution": _csv(
            [ID, TARGET, USAGE, *([WEIGHT] if weighted else [])],
            ([r.id, r.label, mark, *weight] for r, mark, weight in zip(test, marks, weights, strict=True)),
        ),
    }
    return marks, weighted, files


def build_files(
    rows: Sequence[Row], test_runs: frozenset[int], public_share: float, seed: int, features: Features = NO_FEATURES
) -> tuple[dict[str, bytes], Summary]:
    """The four files of a version and what they hold; weights only when every test row has a luminosity."""
    train = [r for r in rows if r.run not in test_runs]
    test = [r for r in rows if r.run in test_runs]
    header = test_header(features)
    marks, weighted, test_files = _test_side(test, public_share, seed, features)
    files = {
        "train.csv": _csv([*header, TARGET], ([*_cells(r, features), r.label] for r in train)),
        "test.csv": test_files["test"],
        "sample_submission.csv": test_files["sample"],
        "solution.csv": test_files["solution"],
    }
    summary = Summary(
        train=Side.of((r.run, r.label) for r in train),
        test=Side.of((r.run, r.label) for r in test),
        public=marks.count("Public"),
        private=marks.count("Private"),
        weighted=weighted,
    )
    return files, summary


def phase_files(
    rows: Sequence[Row], suffix: str, public_share: float, seed: int, features: Features = NO_FEATURES
) -> tuple[list[tuple[str, FileKind, bytes]], Summary]:
    """Every row on the test side, as a competition's later phase takes them: test_{suffix}.csv,
    sample_submission_{suffix}.csv and solution_{suffix}.csv (named apart from the files of earlier phases)."""
    marks, weighted, files = _test_side(rows, public_share, seed, features)
    summary = Summary(
        train=Side.of([]),
        test=Side.of((r.run, r.label) for r in rows),
        public=marks.count("Public"),
        private=marks.count("Private"),
        weighted=weighted,
    )
    layout = [
        (f"test_{suffix}.csv", FileKind.PUBLIC, files["test"]),
        (f"sample_submission_{suffix}.csv", FileKind.PUBLIC, files["sample"]),
        (f"solution_{suffix}.csv", FileKind.SOLUTION, files["solution"]),
    ]
    return layout, summary


def runs_of(version: DatasetVersion, id_column: str = ID) -> set[int]:
    """The runs a version's CSV files hold (public files and solution): by their run_number column, or by ids
    of the form {run}_{lumisection}."""
    runs: set[int] = set()
    for file in version.files:
        if not file.name.endswith(".csv"):
            continue
        with get_storage().open(file.storage_key) as handle:
            table = pd.read_csv(handle, usecols=lambda c: c in (RUN_NUMBER, id_column), dtype=str)
        if RUN_NUMBER in table.columns:
            runs.update(int(float(run)) for run in table[RUN_NUMBER].dropna())
        elif id_column in table.columns:
            parts = table[id_column].dropna().str.extract(r"^(\d+)_\d+$")[0].dropna()
            runs.update(int(run) for run in parts)
    return runs


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
