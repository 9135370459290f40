"""The monitoring elements on the certification page: the page lists them by group without their data, its
script fetches a trend or a lumisection beside its reference, and only whoever may open the page reads them."""

from __future__ import annotations

import base64
import html
import json
import re

import numpy as np
import pytest

from app.extensions import db
from app.models import BadRange, LabellingTask, Reco, ReferenceRun, Role, Run, RunClass, User
from app.services.runs.charts import BAD_FILL
from app.services.suggestions.on_page import COLOURS
from tests.helpers import PASSWORD, make_user
from tests.unit.certification.monitoring import BINS, SHAPE, counts_1d, counts_2d, long_frame, shares, store
from tests.unit.suggestions.tasks import add_source, certify, make_task

RUN, REFERENCE, OTHER_RUN = 7001, 6001, 7002
PIXEL_1D, PIXEL_2D = "PixelPhase1_charge_PXLayer_1", "PixelPhase1_occupancy_PXDisk_+1"
STRIP, TRACKS, OTHER = "SiStrip_StoN_TIB", "NumberOfTracks", "L1T_rate"
DTYPES = {"f4": "<f4", "f8": "<f8", "i4": "<i4"}


def decode(spec: dict) -> np.ndarray:
    """A Plotly typed-array spec as the browser decodes it."""
    values = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=DTYPES[spec["dtype"]])
    return values.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else values


@pytest.fixture
def task_id(app):
    """A task of RUN (collisions, LS 1-40, every element stored) and OTHER_RUN (no element); REFERENCE is a
    collisions reference run holding PIXEL_1D at LS 1-30; users of each role."""
    with app.app_context():
        for name, role in [("sam", Role.SHIFTER), ("lea", Role.SHIFT_LEADER), ("rita", Role.RESEARCHER)]:
            make_user(name, role)
        task = make_task({RUN: range(1, 41), OTHER_RUN: range(1, 11)})
        store(
            long_frame(RUN, TRACKS, range(1, 41)),
            long_frame(RUN, OTHER, range(1, 41)),
            long_frame(RUN, STRIP, range(1, 41)),
            long_frame(RUN, PIXEL_2D, range(1, 41), dimension=2),
            long_frame(RUN, PIXEL_1D, [*range(1, 20), *range(25, 41)]),  # LS 20-24 missing
            long_frame(REFERENCE, PIXEL_1D, range(1, 31)),
        )
        db.session.get(Run, RUN).run_class = RunClass.COLLISIONS
        db.session.get(Run, REFERENCE).run_class = RunClass.COLLISIONS
        db.session.add(ReferenceRun(run_number=REFERENCE, reco=Reco.EXPRESS, run_class=RunClass.COLLISIONS))
        db.session.commit()
        return task.id


def url(task_id: int, name: str, action: str, run: int = RUN) -> str:
    return f"/tasks/{task_id}/runs/{run}/elements/{name}/{action}"


def test_the_page_lists_the_elements_by_group_without_their_data(client, auth, task_id):
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    groups = re.findall(r'data-testid="element-group" data-group="(\w+)"', page)
    assert groups == ["pixel", "strip", "tracking", "other"]
    names = re.findall(r'data-element="([^"]+)"', page)
    assert names == [PIXEL_1D, PIXEL_2D, STRIP, TRACKS, OTHER]  # each group by name
    assert 'data-first="1" data-last="40"' in page
    assert "bdata" not in page and '"shares"' not in page  # the script fetches the data of elements in view
    assert f'data-trend-url="{url(task_id, PIXEL_1D, "trend")}"' in page


def test_a_run_without_elements_says_how_to_import_them(client, auth, task_id):
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{OTHER_RUN}").get_data(as_text=True)
    assert 'data-testid="no-elements"' in page and "flask runs import-mes" in page
    assert "data-element=" not in page


def certify_run(task_id: int, bad: tuple[int, int], reference: int | None = None) -> None:
    """A certification of RUN by sam with one bad range (call inside an app context)."""
    sam = db.session.execute(db.select(User).where(User.username == "sam")).scalar_one()
    certification = certify(db.session.get(LabellingTask, task_id), RUN, sam, comment="hole", reference_run=reference)
    db.session.add(BadRange(certification_id=certification.id, first=bad[0], last=bad[1], components=["pixel"]))
    db.session.commit()


def test_bad_and_suggested_ranges_are_shaded_on_every_trend(app, client, auth, task_id):
    with app.app_context():
        certify_run(task_id, (5, 9))
        task = db.session.get(LabellingTask, task_id)
        add_source(task, {RUN: {n: 0.9 if n in (30, 31) else 0.1 for n in range(1, 41)}}, threshold=0.5)
    auth.login("lea", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    shading = json.loads(html.unescape(re.search(r"data-shapes='([^']*)'", page).group(1)))
    assert [(s["x0"], s["x1"], s["fillcolor"]) for s in shading] == [
        (4.5, 9.5, BAD_FILL),
        (29.5, 31.5, COLOURS[0]),
    ]


def test_a_1d_trend_is_the_share_of_each_bin_per_lumisection(client, auth, task_id):
    auth.login("sam", PASSWORD)
    trend = client.get(url(task_id, STRIP, "trend")).get_json()
    assert (trend["name"], trend["dimension"], trend["group"]) == (STRIP, 1, "strip")
    lumisections = decode(trend["lumisections"])
    assert lumisections.tolist() == list(range(1, 41))
    z = decode(trend["shares"])
    assert z.shape == (BINS, 40)  # rows are bins: the heatmap's y, lumisections along x
    for column, n in enumerate(lumisections):
        assert z[:, column] == pytest.approx(shares(counts_1d(int(n))), abs=1e-3)
    assert decode(trend["entries"]).tolist() == [counts_1d(n).sum() for n in range(1, 41)]
    assert trend["x_edges"] == pytest.approx(list(range(BINS + 1)))


def test_a_2d_trend_is_its_per_lumisection_summaries(client, auth, task_id):
    auth.login("sam", PASSWORD)
    trend = client.get(url(task_id, PIXEL_2D, "trend")).get_json()
    assert trend["dimension"] == 2
    occupancy = decode(trend["occupancy"])
    assert occupancy == pytest.approx(np.ones(40))  # every cell holds at least one entry
    mean = decode(trend["mean"])
    assert mean[9] == pytest.approx(counts_2d(10).mean())
    assert "shares" not in trend


def test_a_lumisection_beside_the_latest_reference_run_as_shares(client, auth, task_id):
    auth.login("sam", PASSWORD)
    answer = client.get(url(task_id, PIXEL_1D, "compare") + "?lumisection=12").get_json()
    assert answer["lumisection"]["lumisection"] == 12
    assert answer["lumisection"]["shares"] == pytest.approx(shares(counts_1d(12)), abs=1e-6)
    reference = answer["reference"]
    assert (reference["run_number"], reference["lumisection"]) == (REFERENCE, 12)
    assert reference["description"] == f"reference run {REFERENCE} (task's latest collisions reference)"
    assert reference["histogram"]["shares"] == pytest.approx(shares(counts_1d(12)), abs=1e-6)
    beyond = client.get(url(task_id, PIXEL_1D, "compare") + "?lumisection=40").get_json()["reference"]
    assert (beyond["lumisection"], beyond["description"]) == (
        30,
        f"reference run {REFERENCE} (task's latest collisions reference), LS 30: the nearest it holds",
    )


def test_the_forms_chosen_reference_and_the_nearest_good_lumisection(client, auth, task_id):
    auth.login("sam", PASSWORD)
    chosen = client.get(url(task_id, PIXEL_1D, "compare") + f"?lumisection=12&reference={REFERENCE}").get_json()
    assert chosen["reference"]["description"] == f"reference run {REFERENCE} (chosen)"
    # No reference run holds the strip element: the nearest good lumisection of the run itself.
    answer = client.get(url(task_id, STRIP, "compare") + "?lumisection=12").get_json()
    assert answer["reference"]["description"] == "LS 11 of this run (nearest good)"
    assert answer["reference"]["histogram"]["shares"] == pytest.approx(shares(counts_1d(11)), abs=1e-6)


def test_the_certifications_reference_run_and_bad_ranges_count(app, client, auth, task_id):
    """Once certified with a reference run and LS 10-11 bad: the reference is chosen, good LS skip 10-11."""
    with app.app_context():
        certify_run(task_id, (10, 11), reference=REFERENCE)
    auth.login("lea", PASSWORD)
    chosen = client.get(url(task_id, PIXEL_1D, "compare") + "?lumisection=12").get_json()["reference"]
    assert chosen["description"] == f"reference run {REFERENCE} (chosen)"
    nearest = client.get(url(task_id, STRIP, "compare") + "?lumisection=12").get_json()["reference"]
    assert nearest["description"] == "LS 13 of this run (nearest good)"


def test_a_2d_lumisection_comes_as_heatmap_rows(client, auth, task_id):
    auth.login("sam", PASSWORD)
    answer = client.get(url(task_id, PIXEL_2D, "compare") + "?lumisection=7").get_json()
    z = decode(answer["lumisection"]["shares"])
    assert z.shape == (SHAPE[1], SHAPE[0])  # rows are y
    assert z == pytest.approx(shares(counts_2d(7)).T, abs=1e-6)
    assert (
        len(answer["lumisection"]["x_edges"]) == SHAPE[0] + 1 and len(answer["lumisection"]["y_edges"]) == SHAPE[1] + 1
    )
    assert answer["reference"]["lumisection"] == 6


@pytest.mark.parametrize(
    ("user", "path", "status"),
    [
        ("rita", "trend", 403),  # a researcher may not open certification pages
        ("rita", "compare?lumisection=3", 403),
        ("sam", "trend?task=other", 404),
        ("sam", "compare?lumisection=abc", 400),
        ("sam", "compare", 400),
        ("sam", "compare?lumisection=0", 400),
        ("sam", "compare?lumisection=41", 400),  # beyond the element's lumisections
        ("sam", f"compare?lumisection={'9' * 40}", 400),
        ("sam", "compare?lumisection=3&reference=x", 400),
        ("sam", "compare?lumisection=22", 404),  # within its span but not stored
    ],
)
def test_refusals(client, auth, task_id, user, path, status):
    auth.login(user, PASSWORD)
    task = task_id + 1 if path.endswith("task=other") else task_id
    response = client.get(url(task, PIXEL_1D, "") + path.removesuffix("?task=other"))
    assert response.status_code == status
    assert response.get_json()["error"]["message"]


def test_unknown_elements_and_runs_outside_the_task_are_not_found(client, auth, task_id):
    auth.login("sam", PASSWORD)
    assert client.get(url(task_id, "NoSuchElement", "trend")).status_code == 404
    assert client.get(url(task_id, PIXEL_1D, "trend", run=REFERENCE)).status_code == 404  # not in the task
    assert client.get(url(task_id, PIXEL_1D, "compare", run=99) + "?lumisection=1").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, task_id):
    response = client.get(url(task_id, PIXEL_1D, "trend"))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
