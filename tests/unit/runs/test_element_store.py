"""Monitoring elements stored by run: the real DQMIO and ML4DQM dumps stored and read back by lumisection and
along the run, trends of a small known table, and the tracker part each real name belongs to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from app.extensions import db
from app.models import MonitoringElement, Run
from app.models.runs import group_of
from app.services.errors import Refused
from app.services.runs import element_store
from app.services.runs.monitoring_elements import COLUMNS, read_dump
from app.services.storage import get_storage

CMS = Path(__file__).resolve().parents[2] / "fixtures" / "cms"
ZPHI = "PixelPhase1_Tracks_PXBarrel_clusterposition_zphi_ontrack_PXLayer_1"
DISK = "PixelPhase1_Tracks_PXForward_clusterposition_xy_ontrack_PXDisk_+1"
pytestmark = pytest.mark.databases("sqlite")


def _long(name: str, counts: np.ndarray, *, run: int = 1, first: int = 1, low=0.0, high=None) -> pd.DataFrame:
    """A 1D element of `counts` (lumisections x bins) in the long DQMIO layout."""
    n, bins = counts.shape
    return pd.DataFrame(
        {
            "fromrun": run,
            "fromlumi": np.arange(first, first + n),
            "hname": name,
            "metype": 3,
            "histo": list(counts.astype(float)),
            "entries": counts.sum(axis=1).astype(float),
            "Xmin": low,
            "Xmax": float(bins) if high is None else high,
            "Xbins": bins,
            "Ymin": 0.0,
            "Ymax": 0.0,
            "Ybins": 0,
        }
    )[list(COLUMNS)]


def _stored_keys(app) -> set[str]:
    root = Path(app.config["STORAGE_URL"].removeprefix("file://"))
    return {str(p.relative_to(root)) for p in root.rglob("*.parquet")}


@pytest.mark.parametrize(
    ("file", "name", "shape", "x", "y"),
    [
        ("dqmio_2023C_PXLayer1_clusterposition_zphi.parquet", ZPHI, (300, 200), (-60.0, 60.0), (-3.2, 3.2)),
        ("dqmio_2023C_PXDisk+1_clusterposition_xy.parquet", DISK, (200, 200), (-20.0, 20.0), (-20.0, 20.0)),
    ],
)
def test_a_real_dqmio_map_is_stored_by_run_and_read_back_by_lumisection(app, file, name, shape, x, y):
    with app.app_context():
        report = element_store.import_dump(CMS / file)
        assert (report.runs, report.lumisections, report.elements) == (1, 5, 1)
        assert db.session.get(Run, 367129) is not None  # the run is created
        (me,) = element_store.elements_of(367129)
        assert (me.name, me.dimension, me.group, me.lumisections) == (name, 2, "pixel", 5)
        assert (me.x_bins, me.y_bins, me.first_lumisection, me.last_lumisection) == (*shape, 1, 5)
        original = read_dump(CMS / file).set_index("fromlumi")
        for ls in (1, 3, 5):
            answer = element_store.histogram_at(me, ls)
            values = np.array(answer["values"])
            assert values.shape == shape
            assert values.ravel().tolist() == list(original.loc[ls, "histo"])  # [x][y], as DQMIO orders them
            assert answer["x_edges"][0] == pytest.approx(x[0]) and answer["x_edges"][-1] == pytest.approx(x[1])
            assert answer["y_edges"][0] == pytest.approx(y[0]) and answer["y_edges"][-1] == pytest.approx(y[1])
            assert (len(answer["x_edges"]), len(answer["y_edges"])) == (shape[0] + 1, shape[1] + 1)
        with pytest.raises(Refused) as refused:
            element_store.histogram_at(me, 6)
        assert refused.value.status == 404 and "1-5" in refused.value.message and name in refused.value.message
        trend = element_store.trend(me)
        assert trend["lumisections"] == [1, 2, 3, 4, 5]
        assert trend["entries"] == original.sort_index()["entries"].astype(float).tolist()
        maps = np.stack(original.sort_index()["histo"].to_numpy()).astype(float)
        assert trend["occupancy"] == pytest.approx((maps > 0).mean(axis=1), rel=1e-3)
        assert trend["mean"] == pytest.approx(maps.mean(axis=1), rel=1e-3)
        centers = np.linspace(*x, shape[0] + 1)[:-1] + (x[1] - x[0]) / shape[0] / 2
        along_x = maps.reshape(5, *shape).sum(axis=2) @ centers / maps.sum(axis=1)
        assert trend["mean_x"] == pytest.approx(along_x, rel=1e-3, abs=1e-4)


def test_the_ml4dqm_dump_gives_nine_strip_and_tracking_elements_of_run_315488(app):
    with app.app_context():
        report = element_store.import_dump(CMS / "ml4dqm_2018A_per_lumi_1D.csv")
        assert (report.runs, report.lumisections, report.elements) == (1, 1, 9)
        elements = element_store.elements_of(315488)
        assert [me.group for me in elements] == ["strip"] * 5 + ["tracking"] * 4
        assert {(me.dimension, me.x_bins, me.first_lumisection) for me in elements} == {(1, 100, 229)}
        residuals = element_store.element(315488, "NormalizedHitResiduals_TEC__wheel__8")
        answer = element_store.histogram_at(residuals, 229)
        assert answer["x_edges"][0] == -5.0 and answer["x_edges"][-1] == 5.0 and len(answer["values"]) == 100
        assert answer["values"][:8] == [0, 0, 0, 1, 0, 0, 3, 2]  # the CSV's list, without its underflow bin


def test_a_trend_gives_each_lumisection_s_shares_of_its_bins(app):
    counts = np.array([[1, 3, 0, 0], [0, 0, 0, 0], [2, 2, 2, 2]])
    with app.app_context():
        element_store.store_elements(_long("TrackPt", counts, first=10, low=-1.0, high=1.0))
        trend = element_store.trend(element_store.element(1, "TrackPt"))
    assert trend == {
        "name": "TrackPt",
        "dimension": 1,
        "group": "tracking",
        "lumisections": [10, 11, 12],
        "entries": [4.0, 0.0, 8.0],
        "x_edges": [-1.0, -0.5, 0.0, 0.5, 1.0],
        "shares": [[0.25, 0.75, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]],
    }


def test_a_trend_of_many_bins_merges_them_and_rounds_to_four_digits(app):
    counts = np.zeros((2, 450))
    counts[0, :3] = [1, 1, 1]  # the first merged bin (bins 0-2) holds it all
    counts[1, 0], counts[1, 449] = 2, 1
    with app.app_context():
        element_store.store_elements(_long("Wide", counts, low=0.0, high=450.0))
        trend = element_store.trend(element_store.element(1, "Wide"))
    assert len(trend["x_edges"]) == 151 and trend["x_edges"][:3] == [0.0, 3.0, 6.0] and trend["x_edges"][-1] == 450
    assert trend["shares"][0][0] == 1.0 and sum(trend["shares"][0]) == 1.0
    assert trend["shares"][1][0] == 0.6667 and trend["shares"][1][-1] == 0.3333


def test_lumisections_out_of_order_are_stored_sorted_in_row_groups_of_64(app):
    counts = np.arange(200 * 3).reshape(200, 3) % 7
    frame = _long("TIB_clusters", counts).sample(frac=1.0, random_state=3)
    with app.app_context():
        element_store.store_elements([frame.iloc[:77], frame.iloc[77:]])
        me = element_store.element(1, "TIB_clusters")
        stored = pq.ParquetFile(get_storage().local_path(me.storage_key))
        assert [stored.metadata.row_group(i).num_rows for i in range(stored.metadata.num_row_groups)] == [64] * 3 + [8]
        assert stored.read(columns=["lumisection"]).column(0).to_pylist() == list(range(1, 201))
        assert element_store.histogram_at(me, 150)["values"] == counts[149].astype(float).tolist()


def test_storing_an_element_again_replaces_it_and_its_file(app):
    with app.app_context():
        element_store.store_elements(_long("TOB_charge", np.ones((3, 4))))
        first = element_store.element(1, "TOB_charge").storage_key
        element_store.store_elements(_long("TOB_charge", np.full((5, 4), 2.0)))
        me = element_store.element(1, "TOB_charge")
        assert me.lumisections == 5 and me.storage_key != first
        assert _stored_keys(app) == {me.storage_key}
        assert db.session.execute(db.select(db.func.count()).select_from(MonitoringElement)).scalar_one() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: pd.concat([f, f.iloc[[1]]]), "run 1, lumisection 2, TEC_x appears more than once"),
        (lambda f: f.assign(Xmax=[4.0, 4.0, 5.0]), "TEC_x of run 1 changes binning between lumisections"),
    ],
)
def test_a_bad_table_stores_nothing(app, change, message):
    with app.app_context():
        with pytest.raises(Refused, match=message):
            element_store.store_elements(change(_long("TEC_x", np.ones((3, 4)))))
        assert db.session.execute(db.select(db.func.count()).select_from(MonitoringElement)).scalar_one() == 0
        assert db.session.get(Run, 1) is None
        assert _stored_keys(app) == set()


def test_an_unknown_element_is_refused_naming_the_run_and_the_element(app):
    with app.app_context():
        with pytest.raises(Refused, match="Run 5 has no monitoring element 'nothing'") as refused:
            element_store.element(5, "nothing")
        assert refused.value.status == 404


@pytest.mark.parametrize(
    ("name", "group"),
    [
        (ZPHI, "pixel"),
        (DISK, "pixel"),
        ("PixelPhase1_Tracks_PXBarrel_charge_PXLayer_1", "pixel"),
        ("SiPixel_digi_occupancy", "pixel"),
        ("Summary_ClusterStoNCorr__OnTrack__TIB__layer__1", "strip"),
        ("Summary_ClusterStoNCorr__OnTrack__TEC__MINUS__wheel__7", "strip"),
        ("SiStrip_NumberOfDigis", "strip"),
        ("NormalizedHitResiduals_TEC__wheel__8", "tracking"),
        ("NumberOfTracks_GenTk", "tracking"),
        ("offlinePrimaryVertices_vertex_z", "tracking"),
        ("HLT_rate", "other"),
    ],
)
def test_each_real_name_falls_in_its_part_of_the_tracker(name, group):
    assert group_of(name) == group
