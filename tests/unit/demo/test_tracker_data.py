"""The synthetic tracker data: the same per seed, shaped like OMS and DQMIO, with anomalies that do what they say."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import groupby

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from app.models import Role
from app.models.runs import RunClass, derive_run_class
from app.services.runs import monitoring_elements
from app.services.runs.importer import import_file, lumisection_counts
from demo import tracker_data
from demo.tracker_histograms import CHARGE, DISK, STON, ZPHI, Anomaly, AnomalyBlock

SMALL = {"runs": 8, "max_ls_per_run": 60, "zphi_bins": (30, 20), "disk_bins": (20, 20)}


@pytest.fixture(scope="module")
def data() -> tracker_data.TrackerData:
    """Twenty runs of at most 200 lumisections, maps at the demo size, more anomalies than usual to test them."""
    return tracker_data.generate(11, runs=20, max_ls_per_run=200, anomaly_rate=0.06)


def _conditions(data: tracker_data.TrackerData) -> pd.DataFrame:
    return pd.DataFrame(data.conditions)


def _element(data: tracker_data.TrackerData, hname: str, run: int) -> pd.DataFrame:
    """The rows of one monitoring element over one run, by lumisection."""
    rows = data.monitoring_elements
    return rows[(rows["hname"] == hname) & (rows["fromrun"] == run)].set_index("fromlumi").sort_index()


def _good(data: tracker_data.TrackerData, run: int) -> np.ndarray:
    """The lumisection numbers of a run without any anomaly."""
    truth = data.truth
    return truth.loc[(truth["run_number"] == run) & truth["anomaly"].isna(), "lumisection_number"].to_numpy()


def _per_lumi(data: tracker_data.TrackerData, rows: pd.DataFrame, run: int) -> pd.Series:
    """Entries per recorded inverse picobarn, by lumisection."""
    conditions = _conditions(data)
    recorded = conditions[conditions["run_number"] == run].set_index("lumisection_number")
    return rows["entries"] / recorded["recorded_lumi_per_lumisection"].reindex(rows.index)


def _stack(rows: pd.DataFrame, numbers: Iterable[int]) -> np.ndarray:
    """The histograms of the lumisections, stacked."""
    return np.stack([monitoring_elements.histogram(rows.loc[n]) for n in numbers]).astype(float)


def _mean(data: tracker_data.TrackerData, hname: str, run: int) -> pd.Series:
    """Mean of a 1D monitoring element, by lumisection."""
    rows = _element(data, hname, run)
    me = data.layout.charge if hname == CHARGE else data.layout.ston
    counts = _stack(rows, rows.index)
    return pd.Series(counts @ me.centers()[0] / counts.sum(axis=1), index=rows.index)


def _blocks(data: tracker_data.TrackerData, kind: Anomaly) -> list[AnomalyBlock]:
    blocks = [block for block in data.anomalies if block.kind is kind]
    assert blocks, f"seed 11 injects no {kind}"
    return blocks


def test_the_same_seed_gives_the_same_data():
    first, second = tracker_data.generate(5, **SMALL), tracker_data.generate(5, **SMALL)
    assert first.runs == second.runs
    assert first.conditions == second.conditions
    pd.testing.assert_frame_equal(first.truth, second.truth)
    pd.testing.assert_frame_equal(
        first.monitoring_elements.drop(columns="histo"), second.monitoring_elements.drop(columns="histo")
    )
    assert all(
        np.array_equal(a, b)
        for a, b in zip(first.monitoring_elements["histo"], second.monitoring_elements["histo"], strict=True)
    )


def test_another_seed_gives_other_data():
    first, second = tracker_data.generate(5, **SMALL), tracker_data.generate(6, **SMALL)
    assert first.conditions["delivered_lumi_per_lumisection"] != second.conditions["delivered_lumi_per_lumisection"]
    assert not np.array_equal(first.monitoring_elements["histo"].iloc[0], second.monitoring_elements["histo"].iloc[0])


def test_runs_are_oms_run_records(data):
    numbers = [run["run_number"] for run in data.runs]
    assert numbers[0] == 380000 and numbers == sorted(set(numbers)) and len(numbers) == 20
    classes = [derive_run_class(run["hlt_key"], run["stable_beam"]) for run in data.runs]
    assert classes.count(RunClass.COLLISIONS) > classes.count(RunClass.COSMICS) >= 1
    for run, run_class in zip(data.runs, classes, strict=True):
        assert run["b_field"] == 3.8 and 20 <= run["ls_count"] <= 200
        assert run["start_time"] < run["end_time"]
        if run_class is RunClass.COLLISIONS:
            assert run["energy"] == 6800.0 and run["hlt_key"] == "/cdaq/physics/Run2024/2e34/v1.0.0/HLT/V2"
        else:
            assert "cosmic" in run["hlt_key"] and abs(run["delivered_lumi"]) < 1e-6


def test_a_json_dump_of_the_conditions_imports_as_an_oms_file(app, tmp_path, data):
    """run_import reads the dump as it reads OMS: every lumisection, DCS-ok unless ramping or without beams."""
    path = tmp_path / "oms_synthetic.json"
    path.write_text(json.dumps(data.conditions))
    conditions = _conditions(data)
    ramping = data.truth["anomaly"].eq(Anomaly.DCS_OFF)
    assert ramping.any()
    with app.app_context():
        report = import_file(path)
        assert (report.format, report.runs, report.lumisections) == ("oms", len(data.runs), len(conditions))
        assert lumisection_counts()["dcs_ok"] == (conditions["beams_stable"] & ~ramping).sum() > 0


def test_luminosity_decays_over_a_fill_and_pileup_follows_it(data):
    conditions = _conditions(data)
    collisions = conditions[conditions["beams_stable"]]
    delivered, recorded = collisions["delivered_lumi_per_lumisection"], collisions["recorded_lumi_per_lumisection"]
    assert (recorded <= delivered).all() and (recorded > 0.9 * delivered).all()
    assert np.corrcoef(delivered, collisions["pileup"])[0, 1] > 0.999
    for _, fill in collisions.groupby("fill_number"):
        assert 50 < fill["pileup"].iloc[0] < 70
        assert (
            fill["delivered_lumi_per_lumisection"].iloc[-10:].mean()
            < fill["delivered_lumi_per_lumisection"].iloc[:10].mean()
        )


def test_tracker_flags_are_off_while_high_voltage_ramps(data):
    conditions = _conditions(data)
    ramping = conditions[data.truth["anomaly"].eq(Anomaly.DCS_OFF).to_numpy()]
    assert len(ramping) and ramping["beams_stable"].all()
    assert not ramping[["bpix_ready", "fpix_ready", "tob_ready", "physics_flag"]].any().any()
    assert (ramping.groupby("run_number")["lumisection_number"].min() == 1).all()


def test_anomalies_are_a_few_percent_of_lumisections_in_blocks():
    data = tracker_data.generate(3, zphi_bins=(30, 20), disk_bins=(20, 20))
    truth = data.truth[data.truth["run_number"].isin(data.monitoring_elements["fromrun"].unique())]
    injected = truth["anomaly"].notna() & truth["anomaly"].ne(Anomaly.DCS_OFF)
    assert 0.01 < injected.mean() < 0.08
    lengths = [
        len(list(block))
        for _, run in truth.groupby("run_number")
        for kind, block in groupby(run["anomaly"].fillna("good"))
        if kind not in ("good", Anomaly.DCS_OFF)
    ]
    assert np.mean(lengths) > 1.5


def test_entries_follow_recorded_luminosity(data):
    run = next(run["run_number"] for run in data.runs if run["hlt_key"] == tracker_data.COLLISIONS_HLT_KEY)
    good = _good(data, run)
    for hname in (ZPHI, DISK, CHARGE, STON):
        per_lumi = _per_lumi(data, _element(data, hname, run), run).loc[good]
        assert per_lumi.std() / per_lumi.mean() < 0.02


def test_maps_keep_the_detector_layout(data):
    run = next(run["run_number"] for run in data.runs if run["hlt_key"] == tracker_data.COLLISIONS_HLT_KEY)
    number = _good(data, run)[0]

    def histogram(hname: str) -> np.ndarray:
        return monitoring_elements.histogram(_element(data, hname, run).loc[number])

    z = data.layout.zphi.centers()[0]
    zphi = histogram(ZPHI)
    assert zphi[np.abs(z) > 28].sum() == 0 and (zphi[np.abs(z) < 20] > 0).mean() > 0.9
    x, y = np.meshgrid(*data.layout.disk.centers(), indexing="ij")
    radius, disk = np.hypot(x, y), histogram(DISK)
    assert disk[(radius < 4) | (radius > 17)].sum() == 0 and disk[(radius > 6) & (radius < 15)].mean() > 10
    assert 18000 < data.layout.charge.centers()[0][histogram(CHARGE).argmax()] < 25000
    assert 20 < data.layout.ston.centers()[0][histogram(STON).argmax()] < 30


def test_a_dead_region_is_empty_where_good_lumisections_are_not(data):
    for block in _blocks(data, Anomaly.DEAD_REGION):
        rows = _element(data, block.hnames[0], block.run_number)
        x0, x1, y0, y1 = block.region
        dead = _stack(rows, block.lumisections)[:, x0:x1, y0:y1]
        good = _stack(rows, _good(data, block.run_number))[:, x0:x1, y0:y1]
        assert dead.sum() == 0 and good.sum(axis=(1, 2)).min() > 0


def test_high_voltage_off_lowers_the_whole_element_and_its_landau_peak(data):
    for block in _blocks(data, Anomaly.HV_OFF):
        good = _good(data, block.run_number)
        for hname in block.hnames:
            per_lumi = _per_lumi(data, _element(data, hname, block.run_number), block.run_number)
            assert per_lumi.loc[list(block.lumisections)].max() < 0.5 * per_lumi.loc[good].median()
        for hname in {CHARGE, STON} & set(block.hnames):
            mean = _mean(data, hname, block.run_number)
            assert mean.loc[list(block.lumisections)].max() < 0.7 * mean.loc[good].median()


def test_low_statistics_lowers_every_element_at_the_start_or_end_of_a_run(data):
    for block in _blocks(data, Anomaly.LOW_STATISTICS):
        run = next(run for run in data.runs if run["run_number"] == block.run_number)
        ramp = (data.truth["run_number"].eq(run["run_number"]) & data.truth["anomaly"].eq(Anomaly.DCS_OFF)).sum()
        assert block.first_ls == ramp + 1 or block.last_ls == run["ls_count"]
        for hname in (ZPHI, DISK, CHARGE, STON):
            per_lumi = _per_lumi(data, _element(data, hname, block.run_number), block.run_number)
            assert (
                per_lumi.loc[list(block.lumisections)].max()
                < 0.65 * per_lumi.loc[_good(data, block.run_number)].median()
            )


def test_hot_spots_raise_a_few_bins(data):
    for block in _blocks(data, Anomaly.HOT_SPOTS):
        rows = _element(data, block.hnames[0], block.run_number)
        good = _stack(rows, _good(data, block.run_number))
        hot = _stack(rows, block.lumisections).sum(axis=0)
        expected = good.sum(axis=0) / good.sum() * hot.sum()
        significance = (hot - expected) / np.sqrt(expected + 1)
        raised = {(int(x), int(y)) for x, y in zip(*np.nonzero(significance > 8), strict=True)}
        assert raised == set(block.hot_bins)


def test_a_charge_shift_moves_the_charge_peak(data):
    for block in _blocks(data, Anomaly.CHARGE_SHIFT):
        mean = _mean(data, CHARGE, block.run_number)
        shifted = mean.loc[list(block.lumisections)] / mean.loc[_good(data, block.run_number)].median()
        assert np.allclose(shifted, block.peak, atol=0.015)
        assert abs(block.peak - 1) >= 0.02


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_simple_baseline_finds_anomalies_but_not_all(seed):
    """Logistic regression on the features, trained on half the runs and scored on the others (DCS-ok lumisections)."""
    data = tracker_data.generate(
        seed, runs=40, max_ls_per_run=120, anomaly_rate=0.05, zphi_bins=(30, 20), disk_bins=(20, 20)
    )
    features = monitoring_elements.features(data.monitoring_elements, downsample=4)
    truth = data.truth.rename(columns={"lumisection_number": "lumisection"})
    table = features.merge(truth, on=["run_number", "lumisection"])
    table = table[table["anomaly"].ne(Anomaly.DCS_OFF) | table["anomaly"].isna()]
    bad = table["anomaly"].notna().to_numpy()
    x = table.drop(columns=["run_number", "lumisection", "anomaly"]).to_numpy()
    runs = np.sort(table["run_number"].unique())
    test = table["run_number"].isin(runs[1::2]).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=5000)).fit(x[~test], bad[~test])
    auc = roc_auc_score(bad[test], model.predict_proba(x[test])[:, 1])
    assert 0.7 < auc < 0.99, auc


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_physical_quantities_are_never_negative(seed):
    """Luminosities and pileup are counts of collisions: zero at least, cosmics runs included."""
    generated = tracker_data.generate(seed, runs=6, max_ls_per_run=30, zphi_bins=(10, 8), disk_bins=(8, 8))
    for name in ("delivered_lumi_per_lumisection", "recorded_lumi_per_lumisection", "pileup"):
        assert min(generated.conditions[name]) >= 0, name
    for run in generated.runs:
        assert run["delivered_lumi"] >= 0 and run["recorded_lumi"] >= 0


def test_a_cosmics_runs_luminosity_reads_as_zero_on_the_task_page(app, client, auth):
    """A luminometer's noise is no luminosity: pages show 0 pb⁻¹, not -4.43e-10."""
    from app.services.certification.tasks import create_task
    from app.services.runs.documents import parse_oms
    from app.services.runs.importer import import_conditions
    from tests.helpers import PASSWORD, make_user

    with app.app_context():
        conditions = parse_oms(
            {
                "run_number": [390001, 390001],
                "lumisection_number": [1, 2],
                "recorded_lumi_per_lumisection": [-4.43e-10, 2.1e-10],
                "delivered_lumi_per_lumisection": [1e-10, 3e-10],
            }
        )
        import_conditions(conditions, "test")
        task_id = create_task("cosmics", "express").id
        make_user("sam", Role.SHIFTER)
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "e-10" not in page and "e-11" not in page
    row = page[page.index("<tbody>") :]
    assert '<td class="text-end text-nowrap">0 pb⁻¹</td>' in row[: row.index("</tr>")]
