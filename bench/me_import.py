"""Importing monitoring elements (`flask runs import-mes`) against pyarrow reading the same Parquet and writing it
back once, the peak memory of the import at two sizes of dump, and the server time of a trend.

Two generated DQMIO dumps (sparse 200x200 maps of 4 elements, as occupancy maps are; rows ordered by
lumisection, in row groups of 64 rows), of SMALL and LARGE lumisections. For each, taking turns over REPEAT
rounds, each in a fresh process so that its peak memory is its own (VmHWM: ru_maxrss would count the parent's):
(a) `flask runs import-mes` of the dump into PostgreSQL and local storage (the time of the command, from
    the app's creation to its last line);
(b) pyarrow reading the dump whole (`pq.read_table`) and writing it back once (`pq.write_table`), the floor
    of any import that reads every bin and writes every bin.
The medians are printed with the ratio (a)/(b) (target <= 2) and each process's peak RSS: the import's should
stay flat from the small dump to the large one, pyarrow's grows with the dump.
Last, the server time of the trend of a 1D element of 3,000 lumisections x 100 bins through the API (JSON
included; target <= 150 ms), with its CPU time and the machine's load, as a busy machine stretches the former.

Needs PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL names the server (a scratch database is created on it
and dropped); BENCH_REPEAT sets the rounds (default 3), BENCH_SMALL and BENCH_LARGE the lumisections of the
dumps (default 400 and 1600: about 0.6 and 2.4 GB decoded). Needs about 4 GB of free disk. Exit status 0
either way.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import make_app, postgres_database

REPO = Path(__file__).resolve().parents[1]
REPEAT = int(os.environ.get("BENCH_REPEAT") or 3)
SIZES = (int(os.environ.get("BENCH_SMALL") or 400), int(os.environ.get("BENCH_LARGE") or 1600))
MB = 1024 * 1024

IMPORT = """
import sys, time
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", "runs", "import-mes", sys.argv[1]]
start = time.perf_counter()
try:
    main()
except SystemExit as exit:
    code = exit.code
peak = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])
print(f"seconds {time.perf_counter() - start} peak {peak}")
sys.exit(code)
"""
ROUND_TRIP = """
import sys, time
import pyarrow.parquet as pq
start = time.perf_counter()
pq.write_table(pq.read_table(sys.argv[1]), sys.argv[2])
peak = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])
print(f"seconds {time.perf_counter() - start} peak {peak}")
"""


def _child(code: str, *arguments: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) a fresh process reports for the code."""
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    found = re.search(r"seconds ([\d.]+) peak (\d+)", result.stdout)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"the child failed: {result.stdout[-1000:]}{result.stderr[-2000:]}")
    return float(found.group(1)), int(found.group(2)) / 1024


def trend_ms(app) -> tuple[float, float]:
    """Median server time, and CPU time, of the trend of a 1D element of 3,000 lumisections x 100 bins, through
    the API (the CPU time is what the request costs on a core of its own, whatever else the machine runs)."""
    import numpy as np
    import pandas as pd

    from app.models import Role
    from app.services.runs import element_store
    from tests.helpers import bearer, make_token, make_user

    rng = np.random.default_rng(1)
    counts = rng.poisson(30.0, size=(3000, 100)) * (rng.random((3000, 100)) > 0.2)
    frame = pd.DataFrame(
        {
            "fromrun": 999_999,
            "fromlumi": np.arange(1, 3001),
            "hname": "Summary_ClusterStoNCorr__OnTrack__TIB__layer__1",
            "metype": 3,
            "histo": list(counts.astype(float)),
            "entries": counts.sum(axis=1).astype(float),
            "Xmin": 0.0,
            "Xmax": 100.0,
            "Xbins": 100,
            "Ymin": 0.0,
            "Ymax": 0.0,
            "Ybins": 0,
        }
    )
    with app.app_context():
        element_store.store_elements(frame)
        headers = bearer(make_token(make_user("sam", Role.SHIFTER)))
    client = app.test_client()
    url = "/api/v1/runs/999999/monitoring-elements/Summary_ClusterStoNCorr__OnTrack__TIB__layer__1/trend"
    times, cpu = [], []
    for _ in range(11):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        response.get_data()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return statistics.median(times[1:]) * 1000, statistics.median(cpu[1:]) * 1000


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sys.path.insert(0, str(REPO))
    from tests.fakes.dqmio import write_dqmio

    folder = Path(tempfile.mkdtemp(prefix="bench-me-"))
    dumps = {}
    for lumisections in SIZES:
        path = folder / f"dump_{lumisections}.parquet"
        decoded = write_dqmio(path, lumisections=lumisections, elements=4)
        dumps[lumisections] = (path, decoded)
    results: dict[int, dict[str, list[tuple[float, float]]]] = {n: {"import": [], "pyarrow": []} for n in SIZES}
    with postgres_database() as url:
        storage = folder / "storage"
        app = make_app(url, storage)
        env = os.environ | {"DATABASE_URL": url, "STORAGE_URL": f"file://{storage}", "SECRET_KEY": "bench"}
        for _ in range(REPEAT):
            for lumisections, (path, _) in dumps.items():
                results[lumisections]["import"].append(_child(IMPORT, str(path), env=env))
                results[lumisections]["pyarrow"].append(_child(ROUND_TRIP, str(path), str(folder / "copy.parquet")))
        trend = trend_ms(app)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    print(f"flask runs import-mes against pyarrow reading and writing the same dump; medians of {REPEAT} rounds")
    ratios = []
    for lumisections, (path, decoded) in dumps.items():
        timed = {name: statistics.median(s for s, _ in runs) for name, runs in results[lumisections].items()}
        peak = {name: max(p for _, p in runs) for name, runs in results[lumisections].items()}
        ratio = timed["import"] / timed["pyarrow"]
        ratios.append(ratio)
        print(
            f"  {lumisections} lumisections x 4 maps: {path.stat().st_size / MB:.0f} MB on disk, {decoded / MB:.0f} MB"
            " decoded"
        )
        print(f"    (a) import-mes:             {timed['import']:6.2f} s, peak RSS {peak['import']:5.0f} MB")
        print(f"    (b) pyarrow read and write: {timed['pyarrow']:6.2f} s, peak RSS {peak['pyarrow']:5.0f} MB")
        print(f"    ratio (a)/(b) {ratio:.2f} (target <= 2.0) {'ok' if ratio <= 2 else 'MISSED'}")
    wall, cpu = trend
    verdict = "ok" if wall <= 150 else "MISSED"
    print(
        f"trend of 3,000 lumisections x 100 bins through the API: {wall:.0f} ms server time, {cpu:.0f} ms of CPU"
        f" (target <= 150) {verdict}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    for path, _ in dumps.values():
        path.unlink()


if __name__ == "__main__":
    main()
