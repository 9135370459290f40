"""`flask runs import-mes` into S3 and the API reading it back: the real DQMIO and ML4DQM dumps, a generated
dump far larger than them imported in bounded memory, bad dumps that change nothing, re-imports that replace."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.extensions import db
from app.models import MonitoringElement, Role, Run
from app.services.errors import Refused
from app.services.runs import element_store
from app.services.storage_s3 import S3Storage
from tests.conftest import make_app
from tests.fakes.dqmio import write_dqmio
from tests.helpers import bearer, make_token, make_user

pytestmark = [pytest.mark.s3, pytest.mark.databases("sqlite", "postgresql")]
REPO = Path(__file__).resolve().parents[3]
CMS = REPO / "tests" / "fixtures" / "cms"
ZPHI_FILE = CMS / "dqmio_2023C_PXLayer1_clusterposition_zphi.parquet"
DISK_FILE = CMS / "dqmio_2023C_PXDisk+1_clusterposition_xy.parquet"
ZPHI = "PixelPhase1_Tracks_PXBarrel_clusterposition_zphi_ontrack_PXLayer_1"
DISK = "PixelPhase1_Tracks_PXForward_clusterposition_xy_ontrack_PXDisk_+1"
MB = 1024 * 1024


@pytest.fixture
def s3(database_url, tmp_path, s3_bucket):
    """The app storing files in a bucket of its own, a shifter's token, and what lists the bucket."""
    bucket, endpoint = s3_bucket
    app = make_app(database_url, tmp_path, STORAGE_URL=f"s3://{bucket}/pg", S3_ENDPOINT_URL=endpoint)
    with app.app_context():
        token = make_token(make_user("sam", Role.SHIFTER))
    client = boto3.client("s3", endpoint_url=endpoint)

    def objects() -> dict[str, int]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", [])}

    return {"app": app, "token": token, "objects": objects, "bucket": bucket, "endpoint": endpoint}


def _import(app, *arguments: str):
    return app.test_cli_runner().invoke(args=["runs", "import-mes", *map(str, arguments)])


def _rows() -> list[tuple]:
    return db.session.execute(
        db.select(MonitoringElement.run_number, MonitoringElement.name, MonitoringElement.storage_key).order_by(
            MonitoringElement.name
        )
    ).all()


def test_the_real_dqmio_files_go_to_s3_and_the_api_serves_them(s3):
    app, headers = s3["app"], bearer(s3["token"])
    for path in (ZPHI_FILE, DISK_FILE):
        result = _import(app, path)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == "1 runs, 5 lumisections, 1 monitoring elements"
    assert {tuple(key.split("/")[:3]) for key in s3["objects"]()} == {("pg", "monitoring-elements", "367129")}
    client = app.test_client()
    listed = client.get("/api/v1/runs/367129/monitoring-elements", headers=headers)
    assert listed.status_code == 200
    assert listed.get_json() == [
        {"name": ZPHI, "dimension": 2, "lumisections": 5},
        {"name": DISK, "dimension": 2, "lumisections": 5},
    ]
    expected = pq.read_table(DISK_FILE).to_pandas().set_index("fromlumi")
    url = f"/api/v1/runs/367129/monitoring-elements/{quote(DISK, safe='')}"
    answer = client.get(f"{url}?lumisection=4", headers=headers).get_json()
    assert np.array(answer["values"]).shape == (200, 200) and len(answer["y_edges"]) == 201
    assert np.array(answer["values"]).ravel().tolist() == list(expected.loc[4, "histo"])
    trend = client.get(f"{url}/trend", headers=headers).get_json()
    assert trend["lumisections"] == [1, 2, 3, 4, 5] and trend["group"] == "pixel"
    assert trend["entries"] == expected.sort_index()["entries"].astype(float).tolist()
    assert set(trend) == {
        "name",
        "dimension",
        "group",
        "lumisections",
        "entries",
        "occupancy",
        "mean",
        "mean_x",
        "mean_y",
    }
    # The name with its + sent as it is in a path works the same.
    assert client.get(f"/api/v1/runs/367129/monitoring-elements/{DISK}/trend", headers=headers).get_json() == trend


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 400, "Say which lumisection"),
        ("?lumisection=abc", 400, "positive whole number, not 'abc'"),
        ("?lumisection=0", 400, "positive whole number"),
        ("?lumisection=99999999999", 400, "positive whole number"),
        ("?lumisection=6", 404, "Run 367129 has no lumisection 6 of " + ZPHI + ": it has 5 lumisections, 1-5"),
    ],
)
def test_a_missing_or_absent_lumisection_is_refused_clearly(s3, query, status, message):
    _import(s3["app"], ZPHI_FILE)
    answer = (
        s3["app"]
        .test_client()
        .get(f"/api/v1/runs/367129/monitoring-elements/{ZPHI}{query}", headers=bearer(s3["token"]))
    )
    assert answer.status_code == status
    assert message in answer.get_json()["error"]["message"]


def test_the_api_needs_a_reader_and_names_what_is_unknown(s3):
    app = s3["app"]
    _import(app, ZPHI_FILE)
    client = app.test_client()
    assert client.get("/api/v1/runs/367129/monitoring-elements").status_code == 401
    with app.app_context():
        researcher = make_token(make_user("rita"))
    assert client.get("/api/v1/runs/367129/monitoring-elements", headers=bearer(researcher)).status_code == 403
    headers = bearer(s3["token"])
    unknown_run = client.get("/api/v1/runs/1/monitoring-elements", headers=headers)
    assert unknown_run.status_code == 404 and "No run 1" in unknown_run.get_json()["error"]["message"]
    unknown = client.get("/api/v1/runs/367129/monitoring-elements/PXLayer_9/trend", headers=headers)
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["message"] == "Run 367129 has no monitoring element 'PXLayer_9'."


def test_a_name_with_folders_is_reached_through_its_path(s3):
    app, headers = s3["app"], bearer(s3["token"])
    name = "SiStrip/MechanicalView/TIB/layer_1/Summary_ClusterStoNCorr"
    frame = _maps_frame(name, np.ones((3, 100 * 100))).assign(metype=3, Xbins=10000, Ybins=0)
    with app.app_context():
        element_store.store_elements(frame)
        with pytest.raises(Refused, match="'TIB/trend' is not a usable monitoring element name"):
            element_store.store_elements(frame.assign(hname="TIB/trend"))
    client = app.test_client()
    assert client.get("/api/v1/runs/1/monitoring-elements", headers=headers).get_json()[0]["name"] == name
    for path in (name, quote(name, safe="")):
        one = client.get(f"/api/v1/runs/1/monitoring-elements/{path}?lumisection=2", headers=headers).get_json()
        assert one["name"] == name and one["lumisection"] == 2 and len(one["values"]) == 10000
        trend = client.get(f"/api/v1/runs/1/monitoring-elements/{path}/trend", headers=headers).get_json()
        assert trend["group"] == "strip" and len(trend["x_edges"]) == 201  # 10,000 bins merged into 200


def test_the_ml4dqm_csv_gives_nine_elements_of_one_lumisection(s3):
    app = s3["app"]
    result = _import(app, CMS / "ml4dqm_2018A_per_lumi_1D.csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "1 runs, 1 lumisections, 9 monitoring elements"
    listed = app.test_client().get("/api/v1/runs/315488/monitoring-elements", headers=bearer(s3["token"])).get_json()
    assert len(listed) == 9 and {(me["dimension"], me["lumisections"]) for me in listed} == {(1, 1)}
    assert listed[0]["name"].startswith("Summary_ClusterStoNCorr") and listed[-1]["name"].startswith("Normalized")
    trend = app.test_client().get(
        f"/api/v1/runs/315488/monitoring-elements/{listed[0]['name']}/trend", headers=bearer(s3["token"])
    )
    assert trend.get_json()["lumisections"] == [229] and sum(trend.get_json()["shares"][0]) == pytest.approx(
        1.0, abs=1e-3
    )


def test_importing_again_replaces_each_element_and_deletes_its_old_object(s3):
    app = s3["app"]
    _import(app, ZPHI_FILE)
    before = s3["objects"]()
    result = _import(app, ZPHI_FILE)
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "1 runs, 5 lumisections, 1 monitoring elements"
    after = s3["objects"]()
    assert len(after) == len(before) == 1 and after.keys() != before.keys()
    with app.app_context():
        assert [(run, name) for run, name, _ in _rows()] == [(367129, ZPHI)]
        assert _rows()[0][2] == next(iter(after)).removeprefix("pg/")


def test_a_truncated_or_bad_dump_changes_nothing(s3, tmp_path):
    app = s3["app"]
    _import(app, ZPHI_FILE)
    with app.app_context():
        rows = _rows()
    objects = s3["objects"]()
    # A truncated file, a file whose last row group is broken (after the others were read), a file whose
    # element changes binning, an unknown kind of file.
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(DISK_FILE.read_bytes()[: DISK_FILE.stat().st_size // 2])
    broken = tmp_path / "broken.parquet"
    write_dqmio(broken, run=367129, lumisections=40, elements=2, bins=(10, 10))
    _rewrite(broken, -1, histo=lambda histo: histo[:-1])
    rebinned = tmp_path / "rebinned.parquet"
    shutil.copyfile(ZPHI_FILE, rebinned)
    _rewrite(rebinned, 3, Xmax=lambda _: 61.0)
    text = tmp_path / "dump.json"
    text.write_text("{}")
    for path, message in (
        (truncated, "truncated.parquet is not a readable Parquet file"),
        (
            broken,
            "broken.parquet: row 79 (run 367129, lumisection 40, PixelPhase1_Synthetic_PXLayer_2): histo has 99 bins",
        ),
        (rebinned, f"rebinned.parquet: {ZPHI} of run 367129 changes binning between lumisections"),
        (text, "dump.json: a dump is a DQMIO .parquet or an ML4DQM .csv file"),
    ):
        result = _import(app, path)
        assert result.exit_code == 1 and message in result.output, result.output
        assert "nothing was imported" in result.output
        assert s3["objects"]() == objects
        with app.app_context():
            assert _rows() == rows and db.session.get(Run, 370000) is None


def _rewrite(path: Path, row: int, **changes) -> None:
    """Change columns of one row of a Parquet file, keeping row groups of 16 rows."""
    table = pq.read_table(path)
    data = table.to_pylist()
    data[row] |= {column: change(data[row][column]) for column, change in changes.items()}
    pq.write_table(pa.Table.from_pylist(data, schema=table.schema), path, row_group_size=16)


def test_an_element_is_read_in_ranges_not_downloaded(s3, monkeypatch):
    """A map of 300 lumisections: one lumisection's histogram and the trend read a small part of the object."""
    app = s3["app"]
    fetched: list[int] = []
    read_range = S3Storage.read_range

    def counted(self, key, start, length):
        data = read_range(self, key, start, length)
        fetched.append(len(data))
        return data

    monkeypatch.setattr(S3Storage, "read_range", counted)
    rng = np.random.default_rng(3)
    maps = (rng.gamma(2.0, 50.0, size=(300, 100 * 100)) * (rng.random((300, 100 * 100)) < 0.5)).astype(np.float32)
    frame = _maps_frame("PixelPhase1_Test_PXDisk_-2", maps)
    with app.app_context():
        element_store.store_elements(frame)
        me = element_store.element(1, "PixelPhase1_Test_PXDisk_-2")
        assert me.size > 4 * MB
        answer = element_store.histogram_at(me, 200)
        assert np.array(answer["values"]).ravel().tolist() == maps[199].astype(float).tolist()
        assert sum(fetched) < me.size / 3
        fetched.clear()
        trend = element_store.trend(me)
        assert trend["lumisections"] == list(range(1, 301))
        assert trend["occupancy"] == pytest.approx((maps > 0).mean(axis=1), rel=1e-3)
        # The footer, then the summary columns of each of the 5 row groups (fetched in parallel), no contents.
        assert sum(fetched) < me.size / 20 and len(fetched) == 1 + 5


def _maps_frame(name: str, maps: np.ndarray):
    import pandas as pd

    n = len(maps)
    return pd.DataFrame(
        {
            "fromrun": 1,
            "fromlumi": np.arange(1, n + 1),
            "hname": name,
            "metype": 6,
            "histo": list(maps.astype(float)),
            "entries": maps.sum(axis=1).astype(float),
            "Xmin": -20.0,
            "Xmax": 20.0,
            "Xbins": 100,
            "Ymin": -20.0,
            "Ymax": 20.0,
            "Ybins": 100,
        }
    )


# The peak is the process's own high-water mark (VmHWM): getrusage's ru_maxrss would also count the parent's
# memory, which a child started by vfork and exec inherits as its starting maximum.
CHILD = """
import sys
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", "runs", "import-mes", sys.argv[1]]
try:
    main()
except SystemExit as exit:
    code = exit.code
status = open("/proc/self/status").read()
print(f"peak RSS {int(status.split('VmHWM:')[1].split()[0]) // 1024} MB", file=sys.stderr)
sys.exit(code)
"""
# The app itself takes about 190 MB; reading and spooling a batch at a time about 150 more; uploading to S3 up to
# about 300 more (boto3 holds up to ten 8 MB parts of an upload in memory, with its checksums' copies).
PEAK_RSS_LIMIT_MB = 768


@pytest.mark.databases("postgresql")
def test_a_dump_far_larger_than_memory_allows_imports_in_bounded_memory(s3, tmp_path, database_url):
    """Over 200 MB on disk, 2.4 GB once decoded: the import's peak memory stays far below either."""
    if shutil.disk_usage(tmp_path).free < 3 * 1024 * MB:
        pytest.skip("needs 3 GB of free disk")
    dump = tmp_path / "large.parquet"
    decoded = write_dqmio(dump, lumisections=1900, elements=4)
    assert dump.stat().st_size > 200 * MB and len(pq.ParquetFile(dump).metadata.to_dict()["row_groups"]) > 100
    environment = os.environ | {
        "DATABASE_URL": database_url,
        "STORAGE_URL": f"s3://{s3['bucket']}/pg",
        "S3_ENDPOINT_URL": s3["endpoint"],
        "SECRET_KEY": "test-secret",
        "REAPER_INTERVAL": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(dump)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "1 runs, 1900 lumisections, 4 monitoring elements"
    peak = int(re.search(r"peak RSS (\d+) MB", result.stderr).group(1))  # type: ignore[union-attr]
    print(f"import of {dump.stat().st_size / MB:.0f} MB on disk ({decoded / MB:.0f} MB decoded): peak RSS {peak} MB")
    assert peak < PEAK_RSS_LIMIT_MB < decoded / MB / 3
    with s3["app"].app_context():
        elements = element_store.elements_of(370000)
        assert [me.lumisections for me in elements] == [1900] * 4
        assert element_store.histogram_at(elements[0], 1900)["lumisection"] == 1900
