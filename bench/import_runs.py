"""Importing dcsonly_2017.json (276,928 lumisections) into PostgreSQL, against plain COPYs of the same rows.

Each round times, taking turns so that the machine's load falls on all alike:
(a) the import (`import_file`, as `flask runs import` calls it) into empty runs and lumisections tables;
(b) the same import again, which finds everything in place and writes nothing;
(c) a plain COPY of the same (run, lumisection, dcs_ok) rows into a bare table made LIKE lumisections;
(d) the same COPY into a table with lumisections' indexes (primary key, unique run and number);
(e) the same COPY into lumisections itself, emptied, after inserting the runs: its indexes and its
    foreign key to runs, which PostgreSQL checks row by row. No import into this schema can beat (e).
The medians over REPEAT rounds are printed with the ratios of (a) to each COPY. The target (<= 3 x a
plain COPY of the same rows) is judged against (e), the COPY into the same table the import fills: the
importer's own work (parsing, checking, upserting) is what it measures. (c) and (d) show what the table's
indexes and foreign key cost on top of any way of writing the rows.
Last, the server time of the run page of a run with 3,000 lumisections (target <= 300 ms).

Needs PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL names the server (a scratch database is
created on it and dropped); BENCH_REPEAT sets the rounds (default 5). Exit status 0 either way.
"""

from __future__ import annotations

import io
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

from _support import make_app, postgres_database

REPO = Path(__file__).resolve().parents[1]
MASK = REPO / "tests" / "fixtures" / "cms" / "dcsonly_2017.json"
REPEAT = int(os.environ.get("BENCH_REPEAT") or 5)


def _copy_rows(cursor, mask, table: str) -> None:
    """COPY the mask's (run, lumisection, dcs_ok) rows into the table, formatted row by row."""
    buffer = io.StringIO()
    for run, ranges in mask.items():
        for first, last in ranges:
            for number in range(first, last + 1):
                buffer.write(f"{run}\t{number}\tt\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} (run_number, number, dcs_ok) FROM STDIN", buffer)


def plain_copy(app, like: str) -> float:
    """COPY the same (run, lumisection, dcs_ok) rows into an empty table made LIKE lumisections."""
    from app.extensions import db
    from app.services.certification import lumimask

    mask = lumimask.load(MASK)
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS copy_target")
                cursor.execute(f"CREATE TABLE copy_target (LIKE lumisections {like})")
                start = time.perf_counter()
                _copy_rows(cursor, mask, "copy_target")
                connection.commit()
                return time.perf_counter() - start
        finally:
            connection.close()


def copy_into_lumisections(app) -> float:
    """COPY the same rows into empty lumisections itself, its runs inserted first."""
    from app.extensions import db
    from app.services.certification import lumimask

    mask = lumimask.load(MASK)
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE runs CASCADE")
                connection.commit()
                cursor.execute(
                    "INSERT INTO runs (run_number, imported_at) SELECT unnest(%s::bigint[]), now()", (list(mask),)
                )
                start = time.perf_counter()
                _copy_rows(cursor, mask, "lumisections")
                connection.commit()
                return time.perf_counter() - start
        finally:
            connection.close()


def timed_import(app, fresh: bool) -> tuple[float, object]:
    """Time import_file of the mask, into empty tables when fresh, else over the same data."""
    from app.extensions import db
    from app.services.runs.importer import import_file

    with app.app_context():
        if fresh:
            db.session.execute(db.text("TRUNCATE runs CASCADE"))
            db.session.commit()
        start = time.perf_counter()
        report = import_file(MASK, "dcs")
        return time.perf_counter() - start, report


def run_page_ms(app) -> float | str:
    """Median server time of the run page of a run with 3,000 lumisections, or why it was not measured."""
    from app.extensions import db
    from app.models import Lumisection, Role, Run
    from app.services.certification.tasks import create_task
    from tests.helpers import PASSWORD, make_user

    with app.app_context():
        db.session.add(Run(run_number=999_999, ls_count=3000))
        db.session.add_all(
            Lumisection(run_number=999_999, number=n, recorded_lumi=1.0 / n, pileup=50.0, dcs_ok=True)
            for n in range(1, 3001)
        )
        db.session.commit()
        task_id = create_task("bench", "express", runs=(999_999, 999_999)).id
        make_user("sam", Role.SHIFTER)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token})
    times = []
    for _ in range(10):
        start = time.perf_counter()
        status = client.get(f"/tasks/{task_id}/runs/999999").status_code
        times.append(time.perf_counter() - start)
        if status != 200:
            return f"the page answered {status}"
    return statistics.median(times[1:]) * 1000


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    timings: dict[str, list[float]] = {name: [] for name in ("import", "again", "bare", "indexed", "floor")}
    with postgres_database() as url:
        app = make_app(url, Path(tempfile.mkdtemp()) / "storage")
        from app.extensions import db

        for _ in range(REPEAT):
            timings["bare"].append(plain_copy(app, "INCLUDING DEFAULTS"))
            timings["indexed"].append(plain_copy(app, "INCLUDING ALL"))
            timings["floor"].append(copy_into_lumisections(app))
            seconds, report = timed_import(app, fresh=True)
            timings["import"].append(seconds)
            timings["again"].append(timed_import(app, fresh=False)[0])
        page = run_page_ms(app)
        with app.app_context():
            db.engine.dispose()
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"import of {report.lumisections:,} lumisections of {report.runs} runs (dcsonly_2017.json) into PostgreSQL")
    print(f"medians of {REPEAT} rounds:")
    print(f"  (a) flask runs import, empty tables:                    {median['import']:6.2f} s")
    print(f"  (b) the same import again (writes nothing):             {median['again']:6.2f} s")
    print(f"  (c) plain COPY into a bare table:                       {median['bare']:6.2f} s")
    print(f"  (d) plain COPY into a table with its indexes:           {median['indexed']:6.2f} s")
    print(f"  (e) plain COPY into lumisections (indexes, foreign key): {median['floor']:6.2f} s")
    print(f"  ratio (a)/(c) {median['import'] / median['bare']:.2f} x COPY into a bare table (no index, no key)")
    print(f"  ratio (a)/(d) {median['import'] / median['indexed']:.2f} x COPY into a table with the indexes")
    ratio = median["import"] / median["floor"]
    verdict = "ok" if ratio <= 3 else "MISSED"
    print(f"  ratio (a)/(e) {ratio:.2f} x plain COPY of the same rows into lumisections (target <= 3) {verdict}")
    if isinstance(page, str):
        print(f"run page of 3,000 lumisections: not measured, {page}")
    else:
        verdict = "ok" if page <= 300 else "MISSED"
        print(f"run page of 3,000 lumisections: {page:.0f} ms server time (target <= 300) {verdict}")


if __name__ == "__main__":
    main()
