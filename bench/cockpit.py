"""The certification page of a run of 3,000 lumisections with 20 monitoring elements, and each element's trend.

Sets up, on a temporary SQLite database and local storage, a task of two runs of 3,000 lumisections each (with
their conditions): one holds 20 monitoring elements stored as an import stores them (12 1D of 100 bins and
8 2D maps of 50 x 50, ``element_store.store_elements``), the other none. Logs a shifter in and prints the
median server time (the app's test client: view, queries, template, JSON; each figure and its baseline measured in
turn, so that a busy machine slows both alike) of
- GET of the certification page of the run with elements (target <= 300 ms), as a ratio against the same page
  of the run without elements (what the elements' index and shading add);
- GET of each element's trend, the page's script's request (target <= 150 ms each), as a ratio against
  reading the same columns of the element's stored Parquet object with pyarrow (the floor of any trend).

Needs nothing but the virtual environment. Exit status 0 either way.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _support import make_app

RUN, EMPTY_RUN, LUMISECTIONS = 320_000, 320_001, 3_000
ONE_D, TWO_D, BINS, SHAPE = 12, 8, 100, (50, 50)
PASSWORD = "bench-password-1"
SUMMARY_2D = ["lumisection", "entries", "occupancy", "mean", "mean_x", "mean_y"]  # what a 2D trend reads


def names() -> list[tuple[str, int]]:
    """The 20 elements: (name, dimension), spread over pixel, strip and tracking."""
    parts = ["PixelPhase1_Tracks_PXLayer_{}", "SiStrip_StoN_OnTrack_TIB_layer_{}", "Tracking_NumberOfTracks_{}"]
    one = [(parts[i % 3].format(i), 1) for i in range(ONE_D)]
    two = [(f"PixelPhase1_clusterposition_xy_PXDisk_{i}", 2) for i in range(TWO_D)]
    return one + two


def frames():
    """Each element of RUN in the long DQMIO layout, one frame at a time."""
    rng = np.random.default_rng(0)
    numbers = np.arange(1, LUMISECTIONS + 1)
    for name, dimension in names():
        size = BINS if dimension == 1 else SHAPE[0] * SHAPE[1]
        histo = rng.poisson(20, size=(LUMISECTIONS, size)).astype(np.float64)
        yield pd.DataFrame(
            {
                "fromrun": RUN,
                "fromlumi": numbers,
                "hname": name,
                "metype": 3 if dimension == 1 else 6,
                "histo": list(histo),
                "entries": histo.sum(axis=1),
                "Xmin": 0.0,
                "Xmax": float(BINS) if dimension == 1 else 1.0,
                "Xbins": BINS if dimension == 1 else SHAPE[0],
                "Ymin": 0.0,
                "Ymax": 0.0 if dimension == 1 else 1.0,
                "Ybins": 0 if dimension == 1 else SHAPE[1],
            }
        )


def populate(app) -> int:
    """The runs with their lumisections, a shifter, the task and the elements; returns the task's id."""
    from app.extensions import db
    from app.models import LabellingTask, Reco, Role, Run, TaskRun
    from app.services import accounts
    from app.services.runs import element_store

    with app.app_context():
        for run in (RUN, EMPTY_RUN):
            db.session.add(Run(run_number=run, ls_count=LUMISECTIONS))
        db.session.flush()
        db.session.execute(
            db.text(
                "INSERT INTO lumisections (run_number, number, recorded_lumi, pileup, dcs_ok) "
                "VALUES (:run, :number, :lumi, :pileup, 1)"
            ),
            [
                {"run": run, "number": n, "lumi": 0.05 + n * 1e-6, "pileup": 50 - n * 0.01}
                for run in (RUN, EMPTY_RUN)
                for n in range(1, LUMISECTIONS + 1)
            ],
        )
        accounts.create_user("shifter", PASSWORD, roles={Role.SHIFTER})
        task = LabellingTask(
            name="bench", reco=Reco.EXPRESS, blind_fraction=0.0, runs=[TaskRun(run_number=r) for r in (RUN, EMPTY_RUN)]
        )
        db.session.add(task)
        db.session.commit()
        element_store.store_elements(frames())
        return task.id


def paired_medians(action: Callable[[], object], baseline: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The median wall times of the action and of its baseline, run in turn (after one warm-up run each), so
    that a busy machine slows both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for run in range(repeat + 1):
        for which, call in enumerate((action, baseline)):
            start = time.perf_counter()
            call()
            if run:
                times[which].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def raw_read(app, name: str) -> Callable[[], object]:
    """Reading the columns a trend needs from the element's stored object with pyarrow."""
    import pyarrow.parquet as pq

    from app.services.runs import element_store
    from app.services.storage import get_storage

    with app.app_context():
        element = element_store.element(RUN, name)
        path = get_storage().local_path(element.storage_key)
        columns = SUMMARY_2D if element.dimension == 2 else ["lumisection", "entries", "values"]
    return lambda: pq.read_table(path, columns=columns)


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    folder = Path(tempfile.mkdtemp())
    app = make_app(f"sqlite:///{folder}/bench.db", folder / "storage", WTF_CSRF_ENABLED=False)
    start = time.perf_counter()
    task_id = populate(app)
    stored = time.perf_counter() - start
    client = app.test_client()
    response = client.post("/login", data={"username": "shifter", "password": PASSWORD})
    assert response.status_code == 302, response.status_code

    def page(run: int):
        def get() -> str:
            response = client.get(f"/tasks/{task_id}/runs/{run}")
            assert response.status_code == 200, response.status_code
            return response.get_data(as_text=True)

        return get

    shown = page(RUN)()
    assert shown.count('data-testid="element"') == ONE_D + TWO_D and "bdata" not in shown
    with_elements, without = paired_medians(page(RUN), page(EMPTY_RUN), repeat=20)
    trends = []
    for name, dimension in names():
        path = f"/tasks/{task_id}/runs/{RUN}/elements/{name}/trend"
        size = len(client.get(path).get_data())

        def get(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        trends.append((name, dimension, size, *paired_medians(get, raw_read(app, name), repeat=10)))

    print(f"{ONE_D + TWO_D} monitoring elements over {LUMISECTIONS:,} lumisections, SQLite and local storage")
    print(f"  stored in {stored:.1f} s")
    ok = with_elements * 1000 <= 300
    print(
        f"  certification page: {with_elements * 1000:6.1f} ms (target <= 300) {'ok' if ok else 'MISSED'};"
        f" {with_elements / without:.2f} x the page of a run without elements ({without * 1000:.1f} ms)"
    )
    print("  trend requests (median of 10), against reading the same columns with pyarrow:")
    for name, dimension, size, seconds, floor in trends:
        ok = seconds * 1000 <= 150
        print(
            f"    {dimension}D {name:42s} {seconds * 1000:6.1f} ms (target <= 150) {'ok' if ok else 'MISSED'};"
            f" {seconds / floor:5.1f} x pyarrow ({floor * 1000:.1f} ms); {size / 1e6:.2f} MB"
        )
    slowest = max(seconds for *_, seconds, _ in trends)
    print(f"  slowest trend: {slowest * 1000:.1f} ms (target <= 150) {'ok' if slowest * 1000 <= 150 else 'MISSED'}")
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
