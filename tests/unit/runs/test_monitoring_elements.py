"""Reading real and synthetic per-lumisection monitoring-element dumps into features, and refusing broken ones."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app.services.errors import Refused
from app.services.runs.monitoring_elements import (
    COLUMNS,
    dqmio_batches,
    dump_batches,
    dump_format,
    feature_prefix,
    features,
    histogram,
    ml4dqm_batches,
    read_dqmio_parquet,
    read_dump,
    read_ml4dqm_csv,
)
from demo import tracker_data

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cms"
ZPHI_FILE = FIXTURES / "dqmio_2023C_PXLayer1_clusterposition_zphi.parquet"
DISK_FILE = FIXTURES / "dqmio_2023C_PXDisk+1_clusterposition_xy.parquet"
ML4DQM_FILE = FIXTURES / "ml4dqm_2018A_per_lumi_1D.csv"
ZPHI_PREFIX = "pixelphase1_tracks_pxbarrel_clusterposition_zphi_ontrack_pxlayer_1"
DISK_PREFIX = "pixelphase1_tracks_pxforward_clusterposition_xy_ontrack_pxdisk_plus1"
STATISTICS_2D = ("entries", "mean_x", "std_x", "mean_y", "std_y", "empty_fraction", "max_over_median")


def _all_finite(table: pd.DataFrame) -> bool:
    return bool(np.isfinite(table.to_numpy(dtype=float)).all())


def test_the_layer_1_dump_gives_one_row_per_lumisection():
    long = read_dqmio_parquet(ZPHI_FILE)
    table = features(long)
    assert list(table["run_number"]) == [367129] * 5 and list(table["lumisection"]) == [1, 2, 3, 4, 5]
    assert {f"{ZPHI_PREFIX}__{name}" for name in STATISTICS_2D} < set(table.columns)
    assert len([c for c in table.columns if "__bin_" in c]) == 64 and _all_finite(table)
    assert list(table[f"{ZPHI_PREFIX}__entries"]) == list(long["entries"])
    shares = table.filter(like="__bin_").sum(axis=1)
    assert np.allclose(shares, 1.0)


def test_the_layer_1_map_is_z_by_phi_with_modules_only_within_27_cm():
    """DQMIO dumps flatten (Xbins, Ybins) with x the slow index: the z axis (x) has the barrel's length."""
    map_ = histogram(read_dqmio_parquet(ZPHI_FILE).iloc[0])
    assert map_.shape == (300, 200)
    z = -60 + (np.arange(300) + 0.5) * 0.4
    assert map_[np.abs(z) > 28].sum() == 0
    assert (map_.sum(axis=0) > 0).mean() > 0.95  # clusters all around phi


def test_the_disk_dump_is_a_200_by_200_ring():
    long = read_dqmio_parquet(DISK_FILE)
    map_ = histogram(long.iloc[0])
    assert map_.shape == (200, 200) and map_.sum() == long["entries"].iloc[0]
    centre = -20 + (np.arange(200) + 0.5) * 0.2
    radius = np.hypot(*np.meshgrid(centre, centre, indexing="ij"))
    assert map_[radius < 4].sum() == 0 and map_[(radius > 6) & (radius < 15)].mean() > 1
    table = features(long)
    assert len(table) == 5 and {f"{DISK_PREFIX}__{name}" for name in STATISTICS_2D} < set(table.columns)
    assert _all_finite(table)


def test_both_dumps_together_give_one_row_per_lumisection_with_both_elements():
    table = features(pd.concat([read_dump(ZPHI_FILE), read_dump(DISK_FILE)], ignore_index=True))
    assert len(table) == 5 and f"{ZPHI_PREFIX}__entries" in table and f"{DISK_PREFIX}__entries" in table


def test_the_ml4dqm_csv_drops_under_and_overflow_and_merges_repeated_columns():
    long = read_ml4dqm_csv(ML4DQM_FILE)
    assert list(long.columns) == list(COLUMNS) and len(long) == 9
    with ML4DQM_FILE.open() as file:
        raw = [json.loads(row[7]) for row in list(csv.reader(file))[1:]]
    for row, values in zip(long.itertuples(index=False), raw, strict=True):
        bins = histogram(row)
        assert bins.shape == (100,) and bins.sum() == sum(values) - values[0] - values[-1]
    table = features(long)
    assert list(table["lumisection"]) == [229] and table.shape[1] == 2 + 9 * (5 + 8) and _all_finite(table)
    assert 15 < table["summary_clusterstoncorr_ontrack_tec_plus_wheel_1__mean"].iloc[0] < 35


def test_a_2d_ml4dqm_histogram_is_reordered_as_dqmio_orders_it(tmp_path):
    """ML4DQM keeps ROOT's order, x fastest with under- and overflow: global bin = x + (Xbins + 2) * y."""
    values = [0] * (3 + 2) * (2 + 2)
    values[3 + 5 * 1] = 7  # x bin 3, y bin 1 (ROOT numbers from 1)
    path = _ml4dqm(tmp_path, [[1, 1, "map", 1, 1, 6, "map", json.dumps(values), 7, 3.0, 0.0, 3, 2.0, 0.0, 2]])
    bins = histogram(read_ml4dqm_csv(path).iloc[0])
    assert bins.shape == (3, 2) and bins[2, 0] == 7 and bins.sum() == 7


@settings(max_examples=15, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.integers(0, 1000)), st.data())
def test_any_2d_histogram_reads_the_same_from_both_layouts(bins, data):
    """The same contents, written as ML4DQM (ROOT's order, with flow) and as DQMIO, read back as the same map."""
    xbins, ybins = bins.shape
    with_flow = np.array(
        data.draw(st.lists(st.integers(0, 9), min_size=(xbins + 2) * (ybins + 2), max_size=(xbins + 2) * (ybins + 2)))
    )
    with_flow = with_flow.reshape(ybins + 2, xbins + 2)
    with_flow[1:-1, 1:-1] = bins.T
    row = [
        1,
        1,
        "map",
        1,
        1,
        6,
        "map",
        json.dumps(with_flow.ravel().tolist()),
        int(with_flow.sum()),
        xbins,
        0,
        xbins,
        ybins,
        0,
        ybins,
    ]
    with tempfile.TemporaryDirectory() as folder:
        ml4dqm = histogram(read_ml4dqm_csv(_ml4dqm(Path(folder), [row])).iloc[0])
    dqmio = histogram({"histo": bins.ravel(), "metype": 6, "Xbins": xbins, "Ybins": ybins, "hname": "map"})
    assert np.array_equal(ml4dqm, bins) and np.array_equal(dqmio, bins)


def test_synthetic_data_goes_the_same_way_as_real_data(tmp_path):
    data = tracker_data.generate(2, runs=4, max_ls_per_run=40)
    path = tmp_path / "synthetic.parquet"
    data.monitoring_elements.to_parquet(path)
    from_file = features(read_dqmio_parquet(path))
    pd.testing.assert_frame_equal(from_file, features(data.monitoring_elements))
    lumisections = sum(run["ls_count"] for run in data.runs if run["hlt_key"] == tracker_data.COLLISIONS_HLT_KEY)
    assert len(from_file) == lumisections and _all_finite(from_file)
    real = features(read_dump(ZPHI_FILE))
    assert set(real.columns) < set(from_file.columns)
    assert histogram(read_dqmio_parquet(path).iloc[0]).shape == (60, 40)


def _ml4dqm(tmp_path: Path, rows: list[list], header: str | None = None) -> Path:
    """An ML4DQM CSV with its repeated columns."""
    path = tmp_path / "dump.csv"
    with path.open("w", newline="") as file:
        file.write(header or ML4DQM_FILE.read_text().splitlines()[0])
        file.write("\n")
        csv.writer(file).writerows(rows)
    return path


def _parquet(tmp_path: Path, table: pd.DataFrame) -> Path:
    path = tmp_path / "dump.parquet"
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="Xbins"), r"dump.parquet lacks the column\(s\) Xbins"),
        (
            lambda t: t.assign(histo=[np.asarray(h)[:-1] for h in t["histo"]]),
            r"row 0 \(run 367129, lumisection 1, PixelPhase1.*\): "
            r"histo has 59999 bins, but Xbins=300 and Ybins=200 make 60000",
        ),
        (lambda t: t.assign(metype=10), r"metype 10 is not a 1D \(3, 4, 5\) or 2D \(6, 7, 8\) histogram"),
        (lambda t: t.assign(fromlumi=1), r"run 367129, lumisection 1, .* appears more than once"),
    ],
)
def test_a_broken_dqmio_dump_is_refused_with_the_reason(tmp_path, change, message):
    path = _parquet(tmp_path, change(pd.read_parquet(ZPHI_FILE)))
    with pytest.raises(Refused, match=message):
        read_dqmio_parquet(path)


def test_a_file_that_is_not_parquet_is_refused(tmp_path):
    path = tmp_path / "dump.parquet"
    path.write_text("fromrun,fromlumi\n")
    with pytest.raises(Refused, match=r"dump\.parquet is not a readable Parquet file"):
        read_dump(path)
    with pytest.raises(Refused, match=r"a dump is a DQMIO \.parquet or an ML4DQM \.csv file"):
        read_dump(tmp_path / "dump.root")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([1, 1, "h", 1, 1, 3, "h", "[1, 2, 3]", 6, 1.0, 0.0, 2, 1, 0, 1], "histo has 3 values, but Xbins=2 with under"),
        ([1, 1, "h", 1, 1, 3, "h", "[1, 2", 3, 1.0, 0.0, 2, 1, 0, 1], "histo is not a JSON list of numbers"),
        ([1, 1, "h", 1, 2, 3, "h", "[0, 1, 2, 0]", 3, 1.0, 0.0, 2, 1, 0, 1], "column 'fromlumi' appears twice with"),
    ],
)
def test_a_broken_ml4dqm_dump_is_refused_with_the_reason(tmp_path, row, message):
    with pytest.raises(Refused, match=message):
        read_ml4dqm_csv(_ml4dqm(tmp_path, [row]))


def test_an_ml4dqm_dump_without_histo_is_refused(tmp_path):
    path = _ml4dqm(tmp_path, [[1, 1, "h"]], header="fromrun,fromlumi,hname")
    with pytest.raises(Refused, match=r"dump.csv lacks the column\(s\) metype, histo, entries"):
        read_ml4dqm_csv(path)


def test_one_element_with_two_binnings_is_refused():
    long = read_dqmio_parquet(ZPHI_FILE)
    long.loc[1, "Xmax"] = 61.0
    with pytest.raises(Refused, match="comes with 2 binnings; features need one"):
        features(long)


def test_column_prefixes_keep_the_sign_of_a_disk():
    assert feature_prefix("PixelPhase1_Tracks_PXForward_clusterposition_xy_ontrack_PXDisk_+1") == DISK_PREFIX
    assert feature_prefix("PXDisk_-1") == "pxdisk_minus1" != feature_prefix("PXDisk_+1")
    assert feature_prefix("Summary_ClusterStoNCorr__OnTrack__TEC__MINUS__wheel__7") == (
        "summary_clusterstoncorr_ontrack_tec_minus_wheel_7"
    )


def test_a_dqmio_dump_read_in_small_batches_gives_the_same_rows():
    """A batch holds about batch_bytes once decoded: one 240 kB map of layer 1 per batch at 100 kB."""
    batches = list(dqmio_batches(ZPHI_FILE, batch_bytes=100_000))
    assert [batch.num_rows for batch in batches] == [1] * 5
    whole = read_dqmio_parquet(ZPHI_FILE)
    together = pd.concat([batch.to_pandas() for batch in batches], ignore_index=True)
    assert list(together["fromlumi"]) == [1, 2, 3, 4, 5] == list(whole["fromlumi"])
    assert all(np.array_equal(a, b) for a, b in zip(together["histo"], whole["histo"], strict=True))
    assert batches[0].schema.field("histo").type == pa.list_(pa.int64())


def test_a_broken_row_late_in_a_dump_is_named_by_its_row_in_the_file(tmp_path):
    table = pd.read_parquet(ZPHI_FILE)
    table.loc[3, "histo"] = np.asarray(table.loc[3, "histo"])[:10]
    path = _parquet(tmp_path, table)
    with pytest.raises(Refused, match=r"row 3 \(run 367129, lumisection 4, .*\): histo has 10 bins"):
        list(dqmio_batches(path, batch_bytes=100_000))
    table = pd.read_parquet(ZPHI_FILE).assign(fromlumi=[1, 2, 0, 4, 5])
    with pytest.raises(Refused, match=r"row 2 .*: the lumisection number must be a positive whole number"):
        list(dqmio_batches(_parquet(tmp_path, table)))


def test_the_ml4dqm_csv_read_in_chunks_gives_nine_elements_of_run_315488_lumisection_229():
    batches = list(ml4dqm_batches(ML4DQM_FILE, rows=4))
    assert [batch.num_rows for batch in batches] == [4, 4, 1]
    rows = pd.concat([batch.to_pandas() for batch in batches], ignore_index=True)
    assert set(rows["fromrun"]) == {315488} and set(rows["fromlumi"]) == {229}
    assert list(rows["hname"]) == list(read_ml4dqm_csv(ML4DQM_FILE)["hname"])
    assert rows["hname"].nunique() == 9 and {len(h) for h in rows["histo"]} == {100}
    assert set(zip(rows["Xmin"], rows["Xmax"], strict=True)) == {(-0.5, 99.5), (-5.0, 5.0)}


def test_a_broken_row_of_a_later_chunk_is_named_by_its_row_in_the_file(tmp_path):
    first = [1, 1, "h", 1, 1, 3, "h", "[0, 1, 2, 0]", 3, 1.0, 0.0, 2, 1, 0, 1]
    third = [1, 3, "h", 1, 3, 3, "h", "[0, 1, 2, 0]", 3, 1.0, 0.0, 2, 1, 0, 1]
    bad = [1, 2, "h", 1, 2, 3, "h", "[0, 1, 2]", 3, 1.0, 0.0, 2, 1, 0, 1]
    path = _ml4dqm(tmp_path, [first, third, bad])
    with pytest.raises(Refused, match=r"row 2 \(run 1, lumisection 2, h\): histo has 3 values"):
        list(ml4dqm_batches(path, rows=2))


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("a.parquet", None, "dqmio"),
        ("a.CSV", None, "ml4dqm"),
        ("a.txt", "dqmio", "dqmio"),
        ("a.pq", "ml4dqm", "ml4dqm"),
    ],
)
def test_the_format_comes_from_the_extension_unless_given(name, given, expected):
    assert dump_format(name, given) == expected


def test_an_unknown_extension_or_format_is_refused(tmp_path):
    with pytest.raises(Refused, match=r"a.root: a dump is a DQMIO .parquet or an ML4DQM .csv file \(or say which"):
        dump_format("a.root")
    with pytest.raises(Refused, match="'root' is not a dump format: dqmio or ml4dqm"):
        list(dump_batches(ZPHI_FILE, "root"))
