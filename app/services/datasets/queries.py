"""Seeing a dataset before modelling it: its lumisections by run with labels and conditions, class balance per run
and per split, and the charts of one run."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.models import DatasetFile, DatasetVersion, FileKind
from app.services.datasets.version_files import MONITORING_ELEMENTS
from app.services.runs.charts import shaded_ranges
from app.services.runs.luminosity import luminosity_series
from app.services.runs.monitoring_elements import histogram
from app.services.storage import get_storage

TRAIN, TEST = "train.csv", "test.csv"
RUN, LUMISECTION, LABEL = "run_number", "lumisection", "label"
CHARTED = ("recorded_lumi", "pileup")  # drawn along the lumisections when the dataset has them
LAYOUT = {"margin": {"l": 60, "r": 60, "t": 20, "b": 50}, "legend": {"orientation": "h"}}


@dataclass(frozen=True)
class RunBalance:
    """A run of the dataset: its side of the split and, where labels are public, how many are bad."""

    run_number: int
    split: str
    lumisections: int
    bad: int | None  # None where the labels are hidden

    @property
    def bad_share(self) -> float | None:
        return None if self.bad is None or not self.lumisections else self.bad / self.lumisections


@dataclass
class SplitBalance:
    """One side of the split: runs, lumisections and bad ones (None where the labels are hidden)."""

    runs: int = 0
    lumisections: int = 0
    bad: int | None = 0

    @property
    def bad_share(self) -> float | None:
        return None if self.bad is None or not self.lumisections else self.bad / self.lumisections


@lru_cache(maxsize=16)
def _read(storage_key: str, sha256: str) -> pd.DataFrame:
    """A stored CSV, read once per content (the sha256 keys the cache, so a changed file is read again)."""
    with get_storage().open(storage_key) as handle:
        return pd.read_csv(io.BytesIO(handle.read()))


def read_file(file: DatasetFile) -> pd.DataFrame:
    """A dataset file as a table (a copy, free to change)."""
    return _read(file.storage_key, file.sha256).copy()


def _file(version: DatasetVersion, name: str, kind: FileKind = FileKind.PUBLIC) -> DatasetFile | None:
    return next((f for f in version.files if f.name == name and f.kind is kind), None)


def lumisections(version: DatasetVersion) -> pd.DataFrame | None:
    """Every lumisection of the version with its split ('train' or 'test') and its label where public.

    None when the version is not laid out by run and lumisection (a dataset of another kind).
    """
    parts = []
    for name, split in ((TRAIN, "train"), (TEST, "test")):
        file = _file(version, name)
        if file is None:
            continue
        table = read_file(file)
        if not {RUN, LUMISECTION} <= set(table.columns):
            return None
        if LABEL not in table.columns:
            table[LABEL] = pd.NA
        parts.append(table.assign(split=split))
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True).sort_values([RUN, LUMISECTION], ignore_index=True)


def balance(table: pd.DataFrame) -> list[RunBalance]:
    """Per run: split, lumisections and bad ones (hidden on the test side)."""
    rows = []
    for (run, split), group in table.groupby([RUN, "split"], sort=True):
        labels = group[LABEL]
        bad = None if labels.isna().all() else int((labels == 1).sum())
        rows.append(RunBalance(int(run), str(split), len(group), bad))
    return rows


def split_balance(runs: list[RunBalance]) -> dict[str, SplitBalance]:
    """The runs summed by side of the split."""
    totals: dict[str, SplitBalance] = {}
    for row in runs:
        total = totals.setdefault(row.split, SplitBalance())
        total.runs += 1
        total.lumisections += row.lumisections
        if row.bad is None:
            total.bad = None  # one run with hidden labels hides the side's count
        elif total.bad is not None:
            total.bad += row.bad
    return totals


def bad_spans(run: pd.DataFrame) -> list[tuple[int, int]]:
    """Contiguous lumisections of a run labelled bad, as (first, last)."""
    spans: list[tuple[int, int]] = []
    for number, label in zip(run[LUMISECTION], run[LABEL], strict=True):
        if pd.isna(label) or label != 1:
            continue
        if spans and spans[-1][1] == number - 1:
            spans[-1] = (spans[-1][0], int(number))
        else:
            spans.append((int(number), int(number)))
    return spans


def run_figure(run: pd.DataFrame) -> dict:
    """The run's conditions along its lumisections (luminosity in one unit that reads well), with the lumisections
    labelled bad shaded."""
    numbers = [int(n) for n in run[LUMISECTION]]
    traces = []
    for index, column in enumerate(c for c in CHARTED if c in run.columns):
        values: list[float | None] = [None if pd.isna(v) else float(v) for v in run[column]]
        name = column.replace("_", " ")
        if column == "recorded_lumi":
            luminosity = luminosity_series(values)
            values, name = luminosity.values, luminosity.title
        trace = {"type": "scatter", "mode": "lines", "name": name, "x": numbers, "y": values}
        if index:
            trace["yaxis"] = "y2"
        traces.append(trace)
    shapes = shaded_ranges(bad_spans(run))
    layout = LAYOUT | {
        "xaxis": {"title": {"text": "lumisection"}},
        "yaxis": {"title": {"text": traces[0]["name"] if traces else ""}},
        "yaxis2": {"title": {"text": traces[1]["name"] if len(traces) > 1 else ""}, "overlaying": "y", "side": "right"},
        "shapes": shapes,
    }
    return {"data": traces, "layout": layout}


def label_of(rows: pd.DataFrame) -> int | None:
    """The label of a lumisection's row (1 bad, 0 good), or None where it is hidden (the test side)."""
    label = rows[LABEL].iloc[0]
    return None if pd.isna(label) else int(label)


def good_reference(table: pd.DataFrame, run_number: int, lumisection: int) -> tuple[int, int] | None:
    """A lumisection labelled good to compare with: the nearest in the same run, else the first of another run."""
    good = table[table[LABEL].isin([0])]  # hidden labels (the test side) are never a good reference
    same = good[(good[RUN] == run_number) & (good[LUMISECTION] != lumisection)]
    if not same.empty:
        nearest = same.iloc[(same[LUMISECTION] - lumisection).abs().argmin()]
        return int(nearest[RUN]), int(nearest[LUMISECTION])
    if good.empty:
        return None
    return int(good.iloc[0][RUN]), int(good.iloc[0][LUMISECTION])


@lru_cache(maxsize=2)
def _parquet_bytes(storage_key: str, sha256: str) -> bytes:
    with get_storage().open(storage_key) as handle:
        return handle.read()


def monitoring_elements_of(version: DatasetVersion, keys: list[tuple[int, int]]) -> pd.DataFrame | None:
    """The monitoring-element rows (DQMIO layout) of these (run, lumisection) pairs; None without such a file."""
    file = _file(version, MONITORING_ELEMENTS)
    if file is None:
        return None
    table = pq.read_table(io.BytesIO(_parquet_bytes(file.storage_key, file.sha256)))
    wanted = pc.is_in(
        pc.add(pc.multiply(pc.cast(table["fromrun"], "int64"), 100_000), pc.cast(table["fromlumi"], "int64")),
        value_set=pa.array([run * 100_000 + ls for run, ls in keys], "int64"),
    )
    return table.filter(wanted).to_pandas()


def element_figure(rows: pd.DataFrame, hname: str, titles: dict[tuple[int, int], str]) -> dict:
    """One monitoring element of each (run, lumisection) side by side: heatmaps for maps, bars for 1D."""
    traces, annotations = [], []
    for index, key in enumerate(titles, start=1):
        row = rows[(rows["fromrun"] == key[0]) & (rows["fromlumi"] == key[1]) & (rows["hname"] == hname)]
        if row.empty:
            continue
        row = row.iloc[0]
        values = histogram(row)
        axis = "" if index == 1 else str(index)
        x_edges = (float(row["Xmin"]), float(row["Xmax"]))
        x = _centres(*x_edges, values.shape[0])
        if values.ndim == 2:
            y = _centres(float(row["Ymin"]), float(row["Ymax"]), values.shape[1])
            trace = {"type": "heatmap", "x": x, "y": y, "z": values.T.tolist(), "coloraxis": "coloraxis"}
        else:
            trace = {"type": "bar", "x": x, "y": values.tolist(), "marker": {"line": {"width": 0}}}
        traces.append(trace | {"xaxis": f"x{axis}", "yaxis": f"y{axis}", "name": titles[key]})
        annotations.append(
            {
                "text": titles[key],
                "xref": f"x{axis} domain",
                "yref": f"y{axis} domain",
                "x": 0,
                "y": 1.08,
                "showarrow": False,
                "xanchor": "left",
            }
        )
    columns = max(len(traces), 1)
    layout = LAYOUT | {
        "grid": {"rows": 1, "columns": columns, "pattern": "independent"},
        "annotations": annotations,
        "showlegend": False,
        "coloraxis": {"colorscale": "Viridis"},
        "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
    }
    return {"data": traces, "layout": layout}


def _centres(low: float, high: float, bins: int) -> list[float]:
    step = (high - low) / bins
    return [low + (i + 0.5) * step for i in range(bins)]
