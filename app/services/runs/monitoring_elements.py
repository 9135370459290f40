"""Per-lumisection monitoring elements: the CMS dump layouts read into one long table, and features from it.

Two layouts exist, both one row per (run, lumisection, monitoring element), with the columns ``COLUMNS``:

- DQMIO Parquet (dumps read from DQMIO with uproot): ``histo`` holds the bin contents without under- and
  overflow, a 2D histogram flattened with x the slow index (uproot's ``values()``, shape (Xbins, Ybins));
  ``Ybins`` is 0 for a 1D histogram.
- ML4DQM CSV: ``histo`` is a JSON list with under- and overflow bins, a 2D histogram in ROOT's order
  (x the fast index, shape (Ybins + 2, Xbins + 2)); ``Ybins`` is 1 for a 1D histogram; ``fromrun``,
  ``fromlumi`` and ``hname`` appear twice.

Both readers give the DQMIO layout, which ``histogram`` reshapes for plotting and ``features`` turns into
one row per lumisection: summary statistics and a down-sampled, normalised copy of each histogram, in
columns named ``<monitoring element>__<feature>``. The same features come out whatever a map's binning,
so real dumps and the synthetic ones of ``tracker_data`` can be compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.services.errors import Refused

COLUMNS = (
    "fromrun",
    "fromlumi",
    "hname",
    "metype",
    "histo",
    "entries",
    "Xmin",
    "Xmax",
    "Xbins",
    "Ymin",
    "Ymax",
    "Ybins",
)
BINNING = ("metype", "Xmin", "Xmax", "Xbins", "Ymin", "Ymax", "Ybins")
ONE_D = frozenset({3, 4, 5})  # DQMIO's TH1F, TH1S, TH1D
TWO_D = frozenset({6, 7, 8})  # DQMIO's TH2F, TH2S, TH2D
KEY = ("run_number", "lumisection")  # the first columns of features, named as in published datasets


Format = Literal["dqmio", "ml4dqm"]
BATCH_BYTES = 16 * 1024 * 1024  # about how much of a dump a batch holds once decoded
CSV_ROWS = 2000  # rows of an ML4DQM CSV read at a time


def dump_format(path: str | PathLike, as_format: str | None = None) -> Format:
    """The layout of a dump: as given, else from the extension (.parquet DQMIO, .csv ML4DQM); Refused otherwise."""
    if as_format in ("dqmio", "ml4dqm"):
        return as_format  # type: ignore[return-value]
    if as_format is not None:
        raise Refused(f"{as_format!r} is not a dump format: dqmio or ml4dqm")
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return "dqmio"
    if suffix == ".csv":
        return "ml4dqm"
    raise Refused(f"{Path(path).name}: a dump is a DQMIO .parquet or an ML4DQM .csv file (or say which with --format)")


def read_dump(path: str | PathLike) -> pd.DataFrame:
    """A DQMIO Parquet (.parquet) or ML4DQM CSV (.csv) dump, in the long DQMIO layout; a dump that cannot be read
    is Refused, naming the file or row and what is wrong."""
    if dump_format(path) == "dqmio":
        return read_dqmio_parquet(path)
    return read_ml4dqm_csv(path)


def dump_batches(path: str | PathLike, as_format: str | None = None) -> Iterator[pa.Table]:
    """A dump read a batch at a time (bounded memory whatever its size), each batch a checked Arrow table in the
    long DQMIO layout; a batch that cannot be read is Refused, naming the file or row and what is wrong.
    Duplicates across batches are left to the reader of the batches."""
    if dump_format(path, as_format) == "dqmio":
        return dqmio_batches(path)
    return ml4dqm_batches(path)


def read_dqmio_parquet(path: str | PathLike) -> pd.DataFrame:
    """A DQMIO Parquet dump, checked: one row per (run, lumisection, monitoring element)."""
    frames = [batch.to_pandas() for batch in dqmio_batches(path)]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    return checked(frame, Path(path).name)


def dqmio_batches(path: str | PathLike, batch_bytes: int = BATCH_BYTES) -> Iterator[pa.Table]:
    """A DQMIO Parquet dump a few megabytes at a time: column chunks are read in pieces, so a file with huge
    row groups still reads in bounded memory."""
    name = Path(path).name
    try:
        dump = pq.ParquetFile(path, buffer_size=1024 * 1024, pre_buffer=False)
    except (pa.ArrowException, OSError) as error:
        raise Refused(f"{name} is not a readable Parquet file: {error}") from None
    _require_columns(dump.schema_arrow.names, name)
    metadata = dump.metadata
    per_row = max(1, _decoded_bytes(metadata) // max(1, metadata.num_rows))
    offset = 0
    batches = dump.iter_batches(batch_size=int(np.clip(batch_bytes // per_row, 1, 65536)), columns=list(COLUMNS))
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as error:
            raise Refused(f"{name} is not a readable Parquet file: {error}") from None
        if batch is None:
            return
        yield checked_batch(pa.Table.from_batches([batch]), name, offset)
        offset += batch.num_rows


def _decoded_bytes(metadata: pq.FileMetaData) -> int:
    """About how many bytes the dump takes once decoded: 8 per bin content (dictionary and run-length encodings
    make the sizes Parquet records far smaller), plus the other columns."""
    total = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            bins = column.path_in_schema.startswith("histo.")
            total += column.num_values * 8 if bins else column.total_uncompressed_size
    return total


def read_ml4dqm_csv(path: str | PathLike) -> pd.DataFrame:
    """An ML4DQM CSV dump in the long DQMIO layout: duplicated columns merged, under- and overflow dropped."""
    frames = [batch.to_pandas() for batch in ml4dqm_batches(path)]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    return checked(frame, Path(path).name)


def ml4dqm_batches(path: str | PathLike, rows: int = CSV_ROWS) -> Iterator[pa.Table]:
    """An ML4DQM CSV dump `rows` rows at a time, in the long DQMIO layout."""
    name = Path(path).name
    offset = 0
    try:
        chunks = pd.read_csv(path, chunksize=rows)
    except (ValueError, OSError) as error:
        raise Refused(f"{name} is not a readable CSV file: {error}") from None
    with chunks:
        while True:
            try:
                frame = next(chunks, None)
            except (ValueError, OSError) as error:
                raise Refused(f"{name} is not a readable CSV file: {error}") from None
            if frame is None:
                return
            frame = _merge_duplicated_columns(frame, name)
            _require_columns(frame.columns, name)
            frame = frame[list(COLUMNS)].reset_index(drop=True)
            _check_kinds(frame, name, offset)
            frame["histo"] = [
                _without_flow(row, offset + i, name) for i, row in enumerate(frame.itertuples(index=False))
            ]
            check_rows(frame, name, offset)
            yield _as_table(frame)
            offset += len(frame)


def _as_table(frame: pd.DataFrame) -> pa.Table:
    """A checked frame of the long layout as an Arrow table, histo as lists of numbers."""
    columns = {c: frame[c].to_numpy() for c in COLUMNS if c != "histo"}
    histo = pa.array([np.asarray(h, dtype=float) for h in frame["histo"]], type=pa.list_(pa.float64()))
    table = pa.table({**columns, "histo": histo})
    return table.select(list(COLUMNS))


def checked_batch(batch: pa.Table | pd.DataFrame, name: str = "the monitoring elements", offset: int = 0) -> pa.Table:
    """A batch of the long layout as an Arrow table, once every row is seen to be whole (see ``check_rows``);
    `offset` is the number of its first row in the dump, for messages."""
    if isinstance(batch, pd.DataFrame):
        check_rows(batch, name, offset)
        return _as_table(batch)
    _require_columns(batch.column_names, name)
    histo = batch.column("histo")
    if not (pa.types.is_list(histo.type) or pa.types.is_large_list(histo.type)) or not (
        pa.types.is_integer(histo.type.value_type) or pa.types.is_floating(histo.type.value_type)
    ):
        raise Refused(f"{name}: histo must be a list of bin contents, not {histo.type}")
    scalars = batch.drop_columns(["histo"]).to_pandas()
    lengths = pc.fill_null(pc.list_value_length(histo), -1).to_numpy()
    _check_scalars(scalars, name, offset)
    _check_lengths(scalars, lengths, name, offset)
    return batch.select(list(COLUMNS))


def _merge_duplicated_columns(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Drop the copies pandas names `column.1`, once they are seen to repeat their column."""
    copies = [c for c in frame.columns if re.fullmatch(r".+\.\d+", c) and c.rsplit(".", 1)[0] in frame.columns]
    for copy in copies:
        original = copy.rsplit(".", 1)[0]
        if not frame[copy].equals(frame[original]):
            raise Refused(f"{name}: column {original!r} appears twice with different values")
    return frame.drop(columns=copies)


def _without_flow(row: Any, i: int, name: str) -> np.ndarray:
    """The bin contents of an ML4DQM row, under- and overflow dropped, 2D ones as DQMIO orders them."""
    where = _where(name, i, row)
    try:
        values = np.asarray(json.loads(row.histo), dtype=float)
    except (TypeError, ValueError):
        raise Refused(f"{where}: histo is not a JSON list of numbers") from None
    xbins, ybins = int(row.Xbins), int(row.Ybins)
    two_d = int(row.metype) in TWO_D
    expected = (xbins + 2) * (ybins + 2) if two_d else xbins + 2
    if values.ndim != 1 or values.size != expected:
        raise Refused(
            f"{where}: histo has {values.size} values, but Xbins={xbins}"
            + (f" and Ybins={ybins}" if two_d else "")
            + f" with under- and overflow make {expected}"
        )
    if not two_d:
        return values[1:-1]
    return values.reshape(ybins + 2, xbins + 2)[1:-1, 1:-1].T.ravel()


def _require_columns(columns: Any, name: str) -> None:
    missing = [c for c in COLUMNS if c not in set(columns)]
    if missing:
        raise Refused(f"{name} lacks the column(s) {', '.join(missing)}")


def _where(name: str, i: int, row: Any) -> str:
    return f"{name}: row {i} (run {row.fromrun}, lumisection {row.fromlumi}, {row.hname})"


def _check_kinds(frame: pd.DataFrame, name: str, offset: int = 0) -> None:
    """Every row a 1D or 2D histogram with a positive number of bins."""
    two_d = frame["metype"].isin(TWO_D)
    known = frame["metype"].isin(ONE_D | TWO_D).to_numpy()
    positive = ((frame["Xbins"] > 0) & ((frame["Ybins"] > 0) | ~two_d)).to_numpy()
    if not known.all():
        i = int(np.argmin(known))
        raise Refused(
            f"{_where(name, offset + i, frame.iloc[i])}: metype {frame['metype'].iloc[i]} is not a 1D (3, 4, 5)"
            " or 2D (6, 7, 8) histogram"
        )
    if not positive.all():
        i = int(np.argmin(positive))
        raise Refused(f"{_where(name, offset + i, frame.iloc[i])}: Xbins and Ybins must be positive")


def check_rows(frame: pd.DataFrame, name: str = "the monitoring elements", offset: int = 0) -> None:
    """Refused unless every row is whole: a positive run and lumisection, a known kind, bins matching Xbins and
    Ybins; `offset` is the number of the frame's first row in the dump, for messages."""
    _require_columns(frame.columns, name)
    lengths = np.array([len(h) if isinstance(h, np.ndarray | list) and np.ndim(h) == 1 else -1 for h in frame["histo"]])
    _check_scalars(frame, name, offset)
    _check_lengths(frame, lengths, name, offset)


def _check_scalars(frame: pd.DataFrame, name: str, offset: int) -> None:
    for column, what in (("fromrun", "run"), ("fromlumi", "lumisection")):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        wrong = ~(np.isfinite(values) & (values >= 1) & (values == np.round(values)))
        if wrong.any():
            i = int(np.argmax(wrong))
            raise Refused(
                f"{_where(name, offset + i, frame.iloc[i])}: the {what} number must be a positive whole number"
            )
    _check_kinds(frame, name, offset)


def _check_lengths(frame: pd.DataFrame, lengths: np.ndarray, name: str, offset: int) -> None:
    two_d = frame["metype"].isin(TWO_D).to_numpy()
    expected = np.where(two_d, frame["Xbins"] * frame["Ybins"], frame["Xbins"])
    wrong = np.flatnonzero(lengths != expected)
    if wrong.size:
        i = int(wrong[0])
        row = frame.iloc[i]
        where = _where(name, offset + i, row)
        if lengths[i] < 0:
            raise Refused(f"{where}: histo must be a list of bin contents")
        binning = f"Xbins={row.Xbins} and Ybins={row.Ybins} make" if two_d[i] else "Xbins is"
        raise Refused(f"{where}: histo has {lengths[i]} bins, but {binning} {expected[i]}")


def checked(frame: pd.DataFrame, name: str = "the monitoring elements") -> pd.DataFrame:
    """The long table itself, once every row is seen to be whole (``check_rows``) and none repeats another's
    run, lumisection and monitoring element."""
    check_rows(frame, name)
    duplicated = frame.duplicated(["fromrun", "fromlumi", "hname"]).to_numpy()
    if duplicated.any():
        row = frame.iloc[int(np.argmax(duplicated))]
        raise Refused(f"{name}: run {row.fromrun}, lumisection {row.fromlumi}, {row.hname} appears more than once")
    return frame


def histogram(row: Mapping[str, Any] | Any) -> np.ndarray:
    """The bin contents of one row of the long table: shape (Xbins,) for 1D, (Xbins, Ybins) for 2D."""
    get = row.__getitem__ if isinstance(row, Mapping | pd.Series) else lambda key: getattr(row, key)
    values = np.asarray(get("histo"))
    xbins, ybins, two_d = int(get("Xbins")), int(get("Ybins")), int(get("metype")) in TWO_D
    shape = (xbins, ybins) if two_d else (xbins,)
    if values.size != int(np.prod(shape)):
        raise Refused(f"{get('hname')}: histo has {values.size} bins, not {' x '.join(map(str, shape))}")
    return values.reshape(shape)


def feature_prefix(hname: str) -> str:
    """A monitoring element's name as a column prefix: lower case, signs spelled out, runs of others as one `_`."""
    spelled = hname.replace("+", "plus").replace("-", "minus")
    return re.sub(r"[^0-9a-z]+", "_", spelled.lower()).strip("_")


def features(long: pd.DataFrame, downsample: int = 8) -> pd.DataFrame:
    """One row per (run, lumisection): statistics and a down-sampled histogram of each monitoring element.

    For each monitoring element: entries, mean and std along each axis (in axis units), the share of
    empty bins, the largest bin over the median of the filled ones, and `downsample` bins (1D) or
    `downsample` x `downsample` bins (2D) holding shares of the contents. A lumisection without some
    monitoring element has NaN in its columns.
    """
    checked(long)
    prefixes: dict[str, str] = {}
    parts = []
    for hname, rows in long.groupby("hname", sort=True):
        prefix = feature_prefix(str(hname))
        if prefix in prefixes:
            raise Refused(f"{hname} and {prefixes[prefix]} give the same column names ({prefix})")
        prefixes[prefix] = str(hname)
        parts.append(_element_features(rows, prefix, downsample))
    if not parts:
        return pd.DataFrame(columns=list(KEY))
    wide = pd.concat(parts, axis=1, join="outer").sort_index()
    wide.index.names = list(KEY)
    return wide.reset_index()


def _element_features(rows: pd.DataFrame, prefix: str, downsample: int) -> pd.DataFrame:
    """The feature columns of one monitoring element, indexed by (run, lumisection)."""
    binning = rows[list(BINNING)].drop_duplicates()
    if len(binning) > 1:
        raise Refused(f"{rows['hname'].iloc[0]} comes with {len(binning)} binnings; features need one")
    first = rows.iloc[0]
    counts = np.stack([np.asarray(h, dtype=float) for h in rows["histo"]])
    if not np.isfinite(counts).all():
        raise Refused(f"{rows['hname'].iloc[0]}: histo holds values that are not finite numbers")
    stats = {"entries": rows["entries"].to_numpy(dtype=float)}
    if int(first["metype"]) in TWO_D:
        counts = counts.reshape(len(rows), int(first["Xbins"]), int(first["Ybins"]))
        stats |= _map_statistics(counts, first)
    else:
        stats |= _moments(counts, _axis(first, "X"), "")
    stats["empty_fraction"] = (counts == 0).reshape(len(rows), -1).mean(axis=1)
    stats["max_over_median"] = _max_over_median(counts.reshape(len(rows), -1))
    stats |= _coarse(counts, downsample)
    index = pd.MultiIndex.from_arrays([rows["fromrun"].to_numpy(), rows["fromlumi"].to_numpy()])
    return pd.DataFrame({f"{prefix}__{name}": values for name, values in stats.items()}, index=index)


def _axis(row: pd.Series, axis: str) -> np.ndarray:
    """Bin centres along X or Y."""
    low, high, bins = float(row[f"{axis}min"]), float(row[f"{axis}max"]), int(row[f"{axis}bins"])
    return low + (np.arange(bins) + 0.5) * (high - low) / bins


def _moments(counts: np.ndarray, centers: np.ndarray, suffix: str) -> dict[str, np.ndarray]:
    """Mean and standard deviation of each row's contents along the bin centres; 0 for an empty row."""
    total = counts.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    mean = counts @ centers / safe
    variance = counts @ centers**2 / safe - mean**2
    return {f"mean{suffix}": mean, f"std{suffix}": np.sqrt(np.clip(variance, 0.0, None))}


def _map_statistics(counts: np.ndarray, row: pd.Series) -> dict[str, np.ndarray]:
    """Mean and std along x and along y of 2D contents, shape (lumisections, Xbins, Ybins)."""
    return _moments(counts.sum(axis=2), _axis(row, "X"), "_x") | _moments(counts.sum(axis=1), _axis(row, "Y"), "_y")


def _max_over_median(flat: np.ndarray) -> np.ndarray:
    """The largest bin over the median of the filled bins, per row; 0 when no bin is filled."""
    size = flat.shape[1]
    ordered = np.sort(flat, axis=1)  # the `filled` positive bins of a row come last
    filled = (flat > 0).sum(axis=1)
    middle = size - filled + np.stack([(filled - 1) // 2, filled // 2])
    median = ordered[np.arange(len(flat)), np.clip(middle, 0, size - 1)].mean(axis=0)
    return np.where(filled > 0, ordered[:, -1] / np.where(filled > 0, median, 1.0), 0.0)


def _coarse(counts: np.ndarray, bins: int) -> dict[str, np.ndarray]:
    """Shares of each row's contents in `bins` groups of adjacent bins per axis (fewer if there are fewer bins)."""
    if bins <= 0:
        return {}
    total = counts.reshape(len(counts), -1).sum(axis=1)
    coarse = counts
    for axis in range(1, counts.ndim):
        edges = np.unique(np.linspace(0, counts.shape[axis], min(bins, counts.shape[axis]) + 1).astype(int))
        coarse = np.add.reduceat(coarse, edges[:-1], axis=axis)
    shares = coarse / np.where(total > 0, total, 1.0).reshape((-1,) + (1,) * (counts.ndim - 1))
    if counts.ndim == 2:
        return {f"bin_{i:02d}": shares[:, i] for i in range(shares.shape[1])}
    return {f"bin_{i:02d}_{j:02d}": shares[:, i, j] for i in range(shares.shape[1]) for j in range(shares.shape[2])}
