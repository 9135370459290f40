"""The monitoring elements of runs, stored: one Parquet object per (run, monitoring element), indexed in the
database (``MonitoringElement``), written from dumps a batch at a time and read a part at a time.

Each object, under ``monitoring-elements/<run>/<name>-<token>.parquet``, holds one row per lumisection,
sorted by lumisection, in row groups of ``ROW_GROUP`` lumisections, with the columns:

- ``lumisection`` (int32), ``entries`` (float64);
- ``occupancy`` (float32, the share of non-empty bins) and ``mean`` (float32, the mean bin content);
- for a 2D element, ``mean_x`` and ``mean_y`` (float32, the means along each axis in axis units);
- ``values``: the bin contents, fixed_size_list<float32>; a 2D element's x the slow index, as DQMIO has it.

Why one object per (run, element) rather than one per run: a page shows a few elements at a time, and only
those are read, whatever else the run holds; a re-import of one element replaces one object. Why the summary
columns beside the contents: the trend of a 2D element (a 300x200 map: 240 kB per lumisection) reads only
them, a few bytes per lumisection, since Parquet stores each column of a row group apart. Why row groups of
64 lumisections: one lumisection's map reads one row group, a few megabytes at most, not the run. On S3 the
objects are read with ranged GETs (``storage.RangedFile``), never downloaded whole unless small; on local
storage they are read in place. The token in each key makes a re-import write a new object, and the old one
is deleted only once the rows pointing to the new one are committed.

Dumps are written a batch at a time (``ElementWriter``): each batch is checked, split by (run, element) and
appended to a temporary local Arrow file per element; once every batch is read, each file is turned into its
Parquet object, uploaded, and the rows written, all in one transaction (``staged_files``): a bad batch
anywhere leaves nothing behind. Memory is one batch and one row group, whatever the size of the dump.
"""

from __future__ import annotations

import contextlib
import math
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.extensions import db
from app.models.runs import GROUPS, MonitoringElement, group_of
from app.models.types import utcnow
from app.services.errors import Refused
from app.services.runs import monitoring_elements
from app.services.runs.monitoring_elements import TWO_D, checked_batch, dump_batches
from app.services.storage import RangedFile, get_storage, open_ranged, staged_files

__all__ = [
    "ROW_GROUP",
    "ElementWriter",
    "StoreReport",
    "element",
    "elements_of",
    "group_of",
    "histogram_at",
    "import_dump",
    "read_long",
    "store_elements",
    "trend",
    "trend_arrays",
]

PREFIX = "monitoring-elements"
ROW_GROUP = 64  # lumisections per row group
MAX_TREND_BINS = 200  # a 1D trend merges adjacent bins down to at most this many
SUMMARY = ("lumisection", "entries", "occupancy", "mean")
SUMMARY_2D = (*SUMMARY, "mean_x", "mean_y")
SIGNIFICANT = 4  # digits of the shares and summaries a trend sends


# Reading -------------------------------------------------------------------------------------------------


def elements_of(run_number: int) -> list[MonitoringElement]:
    """The run's monitoring elements: pixel, strip, tracking, then others, each by name."""
    rows = db.session.execute(db.select(MonitoringElement).where(MonitoringElement.run_number == run_number))
    return sorted(rows.scalars(), key=lambda me: (GROUPS.index(me.group), me.name))


def element(run_number: int, name: str) -> MonitoringElement:
    """The run's monitoring element of that name; Refused (404) naming the run and the element."""
    found = db.session.execute(
        db.select(MonitoringElement).where(MonitoringElement.run_number == run_number, MonitoringElement.name == name)
    ).scalar_one_or_none()
    if found is None:
        raise Refused(f"Run {run_number} has no monitoring element {name!r}.", 404)
    return found


def _open(me: MonitoringElement) -> tuple[pq.ParquetFile, Any]:
    source = open_ranged(get_storage(), me.storage_key, me.size)
    return pq.ParquetFile(source), source


def _edges(low: float, high: float, bins: int) -> np.ndarray:
    return np.linspace(low, high, bins + 1)


def _significant(values: np.ndarray, digits: int = SIGNIFICANT) -> list:
    """The values rounded to `digits` significant digits, as a list of floats whose JSON is that short."""
    values = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(values)
    finite = np.isfinite(values)
    nonzero = (magnitude > 0) & finite
    decimals = np.zeros(values.shape)
    decimals[nonzero] = digits - 1 - np.floor(np.log10(magnitude[nonzero]))
    decimals = np.clip(decimals, -300, 22)  # 10**22 is the largest power of ten a double holds exactly
    scale = np.power(10.0, decimals)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.where(decimals >= 0, np.rint(values * scale) / scale, np.rint(values / (1 / scale)) * (1 / scale))
    return np.where(finite, rounded, 0.0).tolist()


def _prefetch(source: Any, parquet: pq.ParquetFile, columns: Iterable[str]) -> None:
    """Fetch the chunks of those columns in every row group at once, when the object is read in ranges."""
    if not isinstance(source, RangedFile):
        return
    metadata = parquet.metadata
    names = parquet.schema_arrow.names
    ranges = []
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for name in columns:
            chunk = group.column(names.index(name))
            start = chunk.dictionary_page_offset or chunk.data_page_offset
            ranges.append((start, start + chunk.total_compressed_size))
    source.prefetch(ranges)


def trend(me: MonitoringElement) -> dict[str, Any]:
    """The element along the run, ready for JSON.

    A 1D element: its entries, and per lumisection the shares of its contents in each bin (each row summing to
    1, zeros when empty), adjacent bins merged when there are more than ``MAX_TREND_BINS`` (``x_edges`` says how).
    A 2D element: per lumisection its entries, occupancy, mean bin content and means along x and y.
    """
    arrays = trend_arrays(me)
    head = {"name": me.name, "dimension": me.dimension, "group": me.group}
    shaped = {"lumisections": arrays["lumisections"].tolist(), "entries": arrays["entries"].tolist()}
    if me.dimension == 2:
        return head | shaped | {c: _significant(arrays[c]) for c in SUMMARY_2D[2:]}
    return head | shaped | {"x_edges": _significant(arrays["x_edges"], 10), "shares": _significant(arrays["shares"])}


def trend_arrays(me: MonitoringElement) -> dict[str, np.ndarray]:
    """What ``trend`` gives, as numpy arrays at full precision, for callers that encode arrays themselves (the
    certification page sends them as typed arrays): ``lumisections``, ``entries``, and ``x_edges`` and
    ``shares`` (lumisections x bins) of a 1D element or the summaries of a 2D one."""
    parquet, source = _open(me)
    with source:
        if me.dimension == 2:
            _prefetch(source, parquet, SUMMARY_2D)
            table = parquet.read(columns=list(SUMMARY_2D))
            return {
                "lumisections": table.column("lumisection").to_numpy(),
                "entries": table.column("entries").to_numpy(),
                **{c: table.column(c).to_numpy() for c in SUMMARY_2D[2:]},
            }
        columns = ["lumisection", "entries", "values"]
        _prefetch(source, parquet, columns)
        table = parquet.read(columns=columns)
    values = _fixed_values(table.column("values"), me.x_bins)
    edges = _edges(me.x_min, me.x_max, me.x_bins)
    if me.x_bins > MAX_TREND_BINS:
        width = math.ceil(me.x_bins / MAX_TREND_BINS)
        starts = np.arange(0, me.x_bins, width)
        values = np.add.reduceat(values, starts, axis=1)
        edges = np.append(edges[starts], edges[-1])
    totals = values.sum(axis=1, dtype=np.float64, keepdims=True)
    shares = values / np.where(totals > 0, totals, 1.0)
    return {
        "lumisections": table.column("lumisection").to_numpy(),
        "entries": table.column("entries").to_numpy(),
        "x_edges": edges,
        "shares": shares,
    }


def _fixed_values(column: pa.ChunkedArray, width: int) -> np.ndarray:
    """A column of fixed-size lists as a (rows, width) float32 array."""
    if column.num_chunks == 0 or len(column) == 0:
        return np.zeros((0, width), dtype=np.float32)
    flat = pc.list_flatten(column.combine_chunks() if column.num_chunks > 1 else column.chunk(0))
    return flat.to_numpy(zero_copy_only=False).reshape(len(column), width)


def histogram_at(me: MonitoringElement, lumisection: int) -> dict[str, Any]:
    """One lumisection's contents, ready for JSON: ``values`` a list (1D) or a list of lists indexed [x][y] (2D),
    with ``x_edges`` (and ``y_edges``); Refused (404) when the element lacks that lumisection, naming those it has.
    Reads only the row group holding it."""
    parquet, source = _open(me)
    with source:
        metadata = parquet.metadata
        index = parquet.schema_arrow.names.index("lumisection")
        for g in range(metadata.num_row_groups):
            stats = metadata.row_group(g).column(index).statistics
            if stats is not None and stats.has_min_max and not stats.min <= lumisection <= stats.max:
                continue
            group = parquet.read_row_group(g, columns=["lumisection", "values"])
            found = np.flatnonzero(group.column("lumisection").to_numpy() == lumisection)
            if found.size:
                row = group.column("values")[int(found[0])].values.to_numpy(zero_copy_only=False)
                break
        else:
            raise Refused(
                f"Run {me.run_number} has no lumisection {lumisection} of {me.name}: it has {me.lumisections}"
                f" lumisections, {me.first_lumisection}-{me.last_lumisection}.",
                404,
            )
    answer: dict[str, Any] = {
        "name": me.name,
        "lumisection": lumisection,
        "x_edges": _significant(_edges(me.x_min, me.x_max, me.x_bins), 10),
    }
    if me.dimension == 2:
        assert me.y_min is not None and me.y_max is not None and me.y_bins is not None
        answer["y_edges"] = _significant(_edges(me.y_min, me.y_max, me.y_bins), 10)
        answer["values"] = row.reshape(me.x_bins, me.y_bins).tolist()
    else:
        answer["values"] = row.tolist()
    return answer


def read_long(run_numbers: Iterable[int]) -> pd.DataFrame:
    """Every stored monitoring element of those runs as one long DQMIO-layout table (what ``features`` takes),
    bin contents as float32."""
    elements = db.session.execute(
        db.select(MonitoringElement)
        .where(MonitoringElement.run_number.in_(list(run_numbers)))
        .order_by(MonitoringElement.run_number, MonitoringElement.name)
    ).scalars()
    frames = []
    for me in elements:
        parquet, source = _open(me)
        with source:
            table = parquet.read(columns=["lumisection", "entries", "values"])
        values = _fixed_values(table.column("values"), me.x_bins * (me.y_bins or 1))
        n = len(table)
        frames.append(
            pd.DataFrame(
                {
                    "fromrun": np.full(n, me.run_number, dtype=np.int64),
                    "fromlumi": table.column("lumisection").to_numpy().astype(np.int64),
                    "hname": np.full(n, me.name, dtype=object),
                    "metype": np.full(n, 6 if me.dimension == 2 else 3, dtype=np.int64),
                    "histo": list(values),
                    "entries": table.column("entries").to_numpy(),
                    "Xmin": me.x_min,
                    "Xmax": me.x_max,
                    "Xbins": me.x_bins,
                    "Ymin": me.y_min or 0.0,
                    "Ymax": me.y_max or 0.0,
                    "Ybins": me.y_bins or 0,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(monitoring_elements.COLUMNS))
    return pd.concat(frames, ignore_index=True)


# Writing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreReport:
    """What a store wrote: how many runs, lumisections (distinct per run) and monitoring elements."""

    runs: int
    lumisections: int
    elements: int


@dataclass(frozen=True)
class _Binning:
    dimension: int
    x_min: float
    x_max: float
    x_bins: int
    y_min: float | None
    y_max: float | None
    y_bins: int | None

    @property
    def size(self) -> int:
        return self.x_bins * (self.y_bins or 1)

    def describe(self) -> str:
        text = f"{self.x_bins} bins {self.x_min:g}..{self.x_max:g}"
        return text + (f" x {self.y_bins} bins {self.y_min:g}..{self.y_max:g}" if self.dimension == 2 else "")


@dataclass
class _Pending:
    """One (run, element) being written: its spool file of Arrow batches, in the order they came."""

    run: int
    name: str
    binning: _Binning
    path: Path
    writer: pa.ipc.RecordBatchFileWriter
    lumisections: set[int] = field(default_factory=set)
    in_order: bool = True
    last: int = 0


def _schema(binning: _Binning) -> pa.Schema:
    summary = [("lumisection", pa.int32()), ("entries", pa.float64())]
    summary += [(c, pa.float32()) for c in (SUMMARY_2D if binning.dimension == 2 else SUMMARY)[2:]]
    return pa.schema([*summary, ("values", pa.list_(pa.float32(), binning.size))])


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name.replace("+", "plus")).strip("._")[:150] or "element"


class ElementWriter:
    """Monitoring elements written from batches of the long DQMIO layout, then stored in one transaction.

    ``add`` each batch (an Arrow table or a pandas frame), then ``commit``; leaving the block without
    committing, or any refusal, leaves nothing behind. The same (run, element) twice in one dump, or with two
    binnings, is refused naming it.
    """

    def __init__(self, source: str = "the monitoring elements") -> None:
        self.source = source
        self.folder = Path(tempfile.mkdtemp(prefix="monitoring-elements-"))
        self.pending: dict[tuple[int, str], _Pending] = {}
        self.rows = 0

    def __enter__(self) -> ElementWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the temporary files."""
        for pending in self.pending.values():
            with contextlib.suppress(pa.ArrowException, OSError):
                pending.writer.close()
        self.pending.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def add(self, batch: pa.Table | pa.RecordBatch | pd.DataFrame, *, checked: bool = False) -> None:
        """Check a batch (unless the reader did: ``checked_batch``) and spool its rows, element by element."""
        if isinstance(batch, pa.RecordBatch):
            batch = pa.Table.from_batches([batch])
        table = batch if checked and isinstance(batch, pa.Table) else checked_batch(batch, self.source, self.rows)
        self.rows += table.num_rows
        if table.num_rows == 0:
            return
        scalars = table.drop_columns(["histo"]).to_pandas()
        histo = table.column("histo")
        for (run, name), rows in scalars.groupby(["fromrun", "hname"], sort=False):
            index = rows.index.to_numpy()
            self._spool(int(run), str(name), rows, histo.take(pa.array(index)))

    def _binning(self, rows: pd.DataFrame) -> _Binning:
        distinct = rows[list(monitoring_elements.BINNING)].drop_duplicates()
        first = distinct.iloc[0]
        name = rows["hname"].iloc[0]
        two_d = int(first["metype"]) in TWO_D
        kinds = {int(kind) in TWO_D for kind in distinct["metype"]}
        binnings = distinct.drop(columns="metype").drop_duplicates() if two_d else distinct[["Xmin", "Xmax", "Xbins"]]
        if len(kinds) > 1 or len(binnings.drop_duplicates()) > 1:
            raise Refused(
                f"{self.source}: {name} of run {rows['fromrun'].iloc[0]} changes binning between lumisections;"
                " a monitoring element has one binning in a run"
            )
        return _Binning(
            2 if two_d else 1,
            float(first["Xmin"]),
            float(first["Xmax"]),
            int(first["Xbins"]),
            float(first["Ymin"]) if two_d else None,
            float(first["Ymax"]) if two_d else None,
            int(first["Ybins"]) if two_d else None,
        )

    def _spool(self, run: int, name: str, rows: pd.DataFrame, histo: pa.ChunkedArray) -> None:
        if len(name) > 300:
            raise Refused(f"{self.source}: monitoring element names are at most 300 characters, not {name[:60]}...")
        if name.endswith("/trend") or not name.strip("/"):
            raise Refused(f"{self.source}: {name!r} is not a usable monitoring element name")
        binning = self._binning(rows)
        pending = self.pending.get((run, name))
        if pending is None:
            path = self.folder / f"{len(self.pending):06d}.arrow"
            schema = _schema(binning)
            writer = pa.ipc.new_file(str(path), schema, options=pa.ipc.IpcWriteOptions(compression="lz4"))
            pending = _Pending(run, name, binning, path, writer)
            self.pending[(run, name)] = pending
        elif pending.binning != binning:
            raise Refused(
                f"{self.source}: {name} of run {run} changes binning between lumisections"
                f" ({pending.binning.describe()}, then {binning.describe()});"
                " a monitoring element has one binning in a run"
            )
        lumisections = rows["fromlumi"].to_numpy().astype(np.int64)
        seen = pending.lumisections
        for ls in lumisections.tolist():
            if ls in seen:
                raise Refused(f"{self.source}: run {run}, lumisection {ls}, {name} appears more than once")
            seen.add(ls)
            pending.in_order = pending.in_order and ls > pending.last
            pending.last = max(pending.last, ls)
        flat = pc.list_flatten(histo.combine_chunks() if histo.num_chunks != 1 else histo.chunk(0))
        contents = flat.to_numpy(zero_copy_only=False)
        values = contents.astype(np.float32).reshape(len(rows), binning.size)
        if contents.dtype.kind == "f" and not np.isfinite(values).all():
            raise Refused(f"{self.source}: {name} of run {run} holds values that are not finite numbers")
        pending.writer.write_batch(_summarised(lumisections, rows["entries"].to_numpy(), values, binning))

    def commit(self) -> StoreReport:
        """Store every element spooled and write their rows, in one transaction; replaced objects are deleted
        once it commits. Creates the runs not known yet, as the DCS-only import does."""
        from app.services.runs.importer import create_runs

        for pending in self.pending.values():
            pending.writer.close()
        storage = get_storage()
        replaced: list[str] = []
        with staged_files(db.session) as staged:
            create_runs({run for run, _ in self.pending})
            existing = {
                (me.run_number, me.name): me
                for me in db.session.execute(
                    db.select(MonitoringElement).where(
                        MonitoringElement.run_number.in_({run for run, _ in self.pending})
                    )
                ).scalars()
            }
            now = utcnow()
            for (run, name), pending in sorted(self.pending.items()):
                parquet = pending.path.with_suffix(".parquet")
                _write_parquet(pending, parquet)
                key = f"{PREFIX}/{run}/{_safe(name)}-{secrets.token_hex(4)}.parquet"
                with parquet.open("rb") as stream:
                    stored = staged.put(key, stream)
                parquet.unlink()
                me = existing.get((run, name))
                if me is None:
                    me = MonitoringElement(run_number=run, name=name)
                    db.session.add(me)
                else:
                    replaced.append(me.storage_key)
                b = pending.binning
                me.dimension, me.x_min, me.x_max, me.x_bins = b.dimension, b.x_min, b.x_max, b.x_bins
                me.y_min, me.y_max, me.y_bins = b.y_min, b.y_max, b.y_bins
                me.lumisections = len(pending.lumisections)
                me.first_lumisection, me.last_lumisection = min(pending.lumisections), max(pending.lumisections)
                me.storage_key, me.size, me.sha256, me.imported_at = stored.key, stored.size, stored.sha256, now
            db.session.commit()
        for key in replaced:
            storage.delete(key)
        per_run: dict[int, set[int]] = {}
        for (run, _), pending in self.pending.items():
            per_run.setdefault(run, set()).update(pending.lumisections)
        return StoreReport(len(per_run), sum(map(len, per_run.values())), len(self.pending))


def _summarised(lumisections: np.ndarray, entries: np.ndarray, values: np.ndarray, binning: _Binning) -> pa.RecordBatch:
    """The rows of one element as stored: summaries, then the contents."""
    columns: dict[str, pa.Array] = {
        "lumisection": pa.array(lumisections.astype(np.int32)),
        "entries": pa.array(np.asarray(entries, dtype=np.float64)),
        "occupancy": pa.array((np.count_nonzero(values, axis=1) / max(1, values.shape[1])).astype(np.float32)),
        "mean": pa.array(values.mean(axis=1, dtype=np.float64).astype(np.float32)),
    }
    if binning.dimension == 2:
        assert binning.y_bins is not None and binning.y_min is not None and binning.y_max is not None
        maps = values.reshape(len(values), binning.x_bins, binning.y_bins)
        total = values.sum(axis=1, dtype=np.float64)
        safe = np.where(total > 0, total, 1.0)
        x = _edges(binning.x_min, binning.x_max, binning.x_bins)
        y = _edges(binning.y_min, binning.y_max, binning.y_bins)
        along_x = maps.sum(axis=2, dtype=np.float64) @ ((x[:-1] + x[1:]) / 2)
        along_y = maps.sum(axis=1, dtype=np.float64) @ ((y[:-1] + y[1:]) / 2)
        columns["mean_x"] = pa.array((along_x / safe).astype(np.float32))
        columns["mean_y"] = pa.array((along_y / safe).astype(np.float32))
    columns["values"] = pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), binning.size)
    return pa.RecordBatch.from_pydict(columns, schema=_schema(binning))


def _write_parquet(pending: _Pending, path: Path) -> None:
    """The spooled rows as the stored Parquet object: sorted by lumisection, ``ROW_GROUP`` rows per row group,
    one row group in memory at a time."""
    schema = _schema(pending.binning)
    # Dictionaries are for the lumisection numbers only: bin contents and summaries rarely repeat enough to pay.
    writer = pq.ParquetWriter(str(path), schema, use_dictionary=["lumisection"])
    with pa.OSFile(str(pending.path)) as spool, writer:
        reader = pa.ipc.open_file(spool)
        for chunk in _in_order(reader, pending.in_order):
            writer.write_table(chunk, row_group_size=ROW_GROUP)


def _in_order(reader: pa.ipc.RecordBatchFileReader, in_order: bool) -> Iterator[pa.Table]:
    """Tables of ``ROW_GROUP`` rows (the last fewer) sorted by lumisection, from the spool's batches."""
    if in_order:
        held: list[pa.RecordBatch] = []
        count = 0
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            held.append(batch)
            count += batch.num_rows
            while count >= ROW_GROUP:
                table = pa.Table.from_batches(held)
                yield table.slice(0, ROW_GROUP)
                rest = table.slice(ROW_GROUP)
                held, count = rest.to_batches(), rest.num_rows
        if count:
            yield pa.Table.from_batches(held, schema=reader.schema)
        return
    # Rows came out of order: sort their lumisections, then gather each row group from the batches holding it.
    numbers = [reader.get_batch(i).column(0).to_numpy() for i in range(reader.num_record_batches)]
    starts = np.concatenate([[0], np.cumsum([len(n) for n in numbers])])
    lumisections = np.concatenate(numbers)
    order = np.argsort(lumisections, kind="stable")
    for first in range(0, len(order), ROW_GROUP):
        rows = order[first : first + ROW_GROUP]
        batches = np.searchsorted(starts, rows, side="right") - 1
        source = {b: reader.get_batch(b) for b in set(batches.tolist())}
        parts = [
            source[b].slice(row - int(starts[b]), 1) for row, b in zip(rows.tolist(), batches.tolist(), strict=True)
        ]
        yield pa.Table.from_batches(parts)


def store_elements(
    batches: pd.DataFrame | pa.Table | Iterable[pd.DataFrame | pa.Table], source: str | None = None
) -> StoreReport:
    """Store monitoring elements given as the long DQMIO layout (one frame or table, or batches of them): the
    helper the importer and the demo share. One transaction; an element already stored for a run is replaced."""
    if isinstance(batches, pd.DataFrame | pa.Table):
        batches = [batches]
    with ElementWriter(source or "the monitoring elements") as writer:
        for batch in batches:
            writer.add(batch)
        return writer.commit()


def import_dump(path: str | PathLike, as_format: str | None = None) -> StoreReport:
    """Store the monitoring elements of a DQMIO Parquet or ML4DQM CSV dump, read a batch at a time; Refused, with
    nothing stored, when any part of it is wrong."""
    name = Path(path).name
    with ElementWriter(name) as writer:
        for batch in dump_batches(path, as_format):
            writer.add(batch, checked=True)
        if not writer.pending:
            raise Refused(f"{name} holds no monitoring element")
        return writer.commit()
