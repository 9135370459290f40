"""Importing dcsonly_2017.json (276,928 lumisections) into PostgreSQL, against a plain COPY of the same rows.

Prints both times and their ratio (target: the import <= 3 x the COPY), and the
server time of the run page of a run with 3,000 lumisections (target <= 300 ms).
"""

from __future__ import annotations

import io
import logging
import statistics
import tempfile
import time
from pathlib import Path

from _support import make_app, postgres_database

REPO = Path(__file__).resolve().parents[1]
MASK = REPO / "tests" / "fixtures" / "cms" / "dcsonly_2017.json"


def plain_copy(app, like: str) -> float:
    """COPY the same (run, lumisection, dcs_ok) rows into an empty table made LIKE lumisections."""
    from app.extensions import db
    from app.services import lumimask

    mask = lumimask.load(MASK)
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS copy_target")
                cursor.execute(f"CREATE TABLE copy_target (LIKE lumisections {like})")
                start = time.perf_counter()
                buffer = io.StringIO()
                for run, ranges in mask.items():
                    for first, last in ranges:
                        for number in range(first, last + 1):
                            buffer.write(f"{run}\t{number}\tt\n")
                buffer.seek(0)
                cursor.copy_expert("COPY copy_target (run_number, number, dcs_ok) FROM STDIN", buffer)
                connection.commit()
                return time.perf_counter() - start
        finally:
            connection.close()


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with postgres_database() as url:
        app = make_app(url, Path(tempfile.mkdtemp()) / "storage")
        from app.extensions import db
        from app.models import Lumisection, Role, Run
        from app.services.certification import create_task
        from app.services.run_import import import_file
        from tests.helpers import PASSWORD, make_user

        bare_copy = plain_copy(app, "INCLUDING DEFAULTS")
        indexed_copy = plain_copy(app, "INCLUDING ALL")
        with app.app_context():
            start = time.perf_counter()
            report = import_file(MASK, "dcs")
            import_seconds = time.perf_counter() - start
            # A long run for the page: 3,000 lumisections with conditions.
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
            assert client.get(f"/tasks/{task_id}/runs/999999").status_code == 200
            times.append(time.perf_counter() - start)
        with app.app_context():
            db.engine.dispose()
    print(f"import of {report.lumisections:,} lumisections of {report.runs} runs (dcsonly_2017.json) into PostgreSQL")
    print(f"  flask runs import: {import_seconds:6.2f} s")
    print(f"  plain COPY into a bare table:              {bare_copy:6.2f} s")
    print(f"  plain COPY into a table with its indexes:  {indexed_copy:6.2f} s")
    ratio = import_seconds / bare_copy
    print(f"  ratio {ratio:.2f} x bare COPY (target <= 3) {'ok' if ratio <= 3 else 'MISSED'}")
    print(f"  ratio {import_seconds / indexed_copy:.2f} x indexed COPY")
    page_ms = statistics.median(times[1:]) * 1000
    verdict = "ok" if page_ms <= 300 else "MISSED"
    print(f"run page of 3,000 lumisections: {page_ms:.0f} ms server time (target <= 300) {verdict}")


if __name__ == "__main__":
    main()
