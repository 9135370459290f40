"""Importing a source of 3,000,000 scores (1,000 runs x 3,000 lumisections) into PostgreSQL, against plain COPYs
of the same rows into the same table, and against writing them as a Parquet file (the alternative storage).

Each round times, taking turns so that the machine's load falls on all alike:
(a) the whole import of the CSV file: read and check it against the task's lumisections (`read_source_csv`),
    then `store.add_source` (binary COPY, run summaries, the task's ranks) and the commit;
(b) the same from checked arrays: `store.add_source` and the commit alone;
(c) a plain COPY of the same rows, as CSV text prepared beforehand, into suggestion_scores (its primary key,
    no foreign key: see SuggestionScore), and the commit;
(d) the same rows as a binary COPY prepared beforehand: the fastest way PostgreSQL takes them;
(e) writing the same rows as Parquet with pyarrow (one row group per 100 runs), the file a source could be.
Target: (a) <= 3 x (c). Also printed: the reading and checking of the file alone ("about a second"), and the
time to read one run of the source back, from the table (the certification page's query) and from the Parquet
file (its row group read and filtered), which is why the scores are rows (see app/models/suggestions.py).

Needs PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL names the server (a scratch database is created on
it and dropped); BENCH_REPEAT sets the rounds (default 3). Exit status 0 either way.
"""

from __future__ import annotations

import io
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _support import make_app, median_seconds, postgres_database

RUNS, LUMISECTIONS = 1_000, 3_000
FIRST_RUN = 300_000
REPEAT = int(os.environ.get("BENCH_REPEAT") or 3)


def populate(app) -> int:
    """Runs, their lumisections and a task over them; returns the task id."""
    from app.extensions import db
    from app.models import LabellingTask, Reco, TaskRun

    with app.app_context():
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        cursor.execute(
            "INSERT INTO runs (run_number, imported_at) SELECT g, now() FROM generate_series(%s, %s) g",
            (FIRST_RUN, FIRST_RUN + RUNS - 1),
        )
        cursor.execute(
            "INSERT INTO lumisections (run_number, number) SELECT r, n FROM generate_series(%s, %s) r, "
            "generate_series(1, %s) n",
            (FIRST_RUN, FIRST_RUN + RUNS - 1, LUMISECTIONS),
        )
        task = LabellingTask(
            name="bench", reco=Reco.EXPRESS, runs=[TaskRun(run_number=FIRST_RUN + i) for i in range(RUNS)]
        )
        db.session.add(task)
        db.session.flush()
        cursor.execute("ANALYZE")
        db.session.commit()
        return task.id


def scores_csv() -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """The source's file, and its columns."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    run = np.repeat(np.arange(FIRST_RUN, FIRST_RUN + RUNS, dtype=np.int64), LUMISECTIONS)
    number = np.tile(np.arange(1, LUMISECTIONS + 1, dtype=np.int64), RUNS)
    score = np.random.default_rng(0).random(len(run))
    buffer = io.BytesIO()
    pacsv.write_csv(pa.table({"run": run, "lumisection": number, "score": score}), buffer)
    return buffer.getvalue(), run, number, score


def copy_source(app) -> int:
    """The source the plain COPYs write under; returns its id."""
    from app.extensions import db

    with app.app_context():
        source_id = db.session.execute(
            db.text(
                "INSERT INTO suggestion_sources (task_id, name, version, kind, created_at, threshold, active, rows) "
                "SELECT id, 'copy', '', 'upload', now(), 0.5, false, 0 FROM labelling_tasks RETURNING id"
            )
        ).scalar_one()
        db.session.commit()
        return source_id


def clear(app, keep: int) -> None:
    """Remove every score, summary and rank, and every source but the one the plain COPYs write under."""
    from app.extensions import db

    with app.app_context():
        db.session.execute(db.text("TRUNCATE suggestion_scores, source_run_stats, task_run_ranks"))
        db.session.execute(db.text("DELETE FROM suggestion_sources WHERE id != :keep"), {"keep": keep})
        db.session.commit()


def timed_import(app, task_id: int, data: bytes | None, arrays) -> float:
    """(a) with the file, (b) with checked arrays: the import through the store, committed."""
    from app.extensions import db
    from app.models import LabellingTask
    from app.services.suggestions import source_files, store

    with app.app_context():
        task = db.session.get(LabellingTask, task_id)
        start = time.perf_counter()
        if data is not None:
            scores = source_files.read_source_csv(data, store.task_lumisections(task_id))
        else:
            scores = source_files.SourceScores(*arrays)
        store.add_source(task, scores, name="bench", kind="upload")
        db.session.commit()
        return time.perf_counter() - start


def plain_copy(app, payload: bytes, binary: bool) -> float:
    """(c) and (d): COPY the prepared rows into suggestion_scores, committed."""
    from app.extensions import db

    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                how = "(FORMAT binary)" if binary else "(FORMAT csv)"
                start = time.perf_counter()
                cursor.copy_expert(
                    f"COPY suggestion_scores (run_number, source_id, lumisection, score) FROM STDIN WITH {how}",
                    io.BytesIO(payload),
                )
                connection.commit()
                return time.perf_counter() - start
        finally:
            connection.close()


def copy_payloads(source_id: int, run, number, score) -> tuple[bytes, bytes]:
    """The rows as CSV text and as binary COPY, prepared outside the timings."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from app.services.suggestions import source_files, store

    text = io.BytesIO()
    table = pa.table({"run": run, "source": np.full(len(run), source_id, dtype=np.int32), "ls": number, "s": score})
    pacsv.write_csv(table, text, pacsv.WriteOptions(include_header=False))
    rows = store.copy_rows(source_id, source_files.SourceScores(run, number, score), slice(None))
    return text.getvalue(), store._COPY_SIGNATURE + rows.tobytes() + b"\xff\xff"


def parquet_write(run, number, score, folder: Path) -> float:
    """(e) the same rows written as a Parquet file with pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"run": run, "lumisection": number, "score": score})
    start = time.perf_counter()
    pq.write_table(table, folder / "source.parquet", row_group_size=100 * LUMISECTIONS)
    return time.perf_counter() - start


def one_run_reads(app, task_id: int, folder: Path) -> tuple[float, float]:
    """Median time to read one run's scores of the source: from the table, and from the Parquet file."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from app.extensions import db
    from app.models import LabellingTask
    from app.services.suggestions import store

    run = FIRST_RUN + RUNS // 2
    with app.app_context():
        task = db.session.get(LabellingTask, task_id)
        table = median_seconds(lambda: store.run_suggestions(task, run)[0].suggested_ranges, repeat=20)

    def from_file():
        scores = pq.read_table(folder / "source.parquet", filters=[("run", "=", run)])
        return pc.sum(scores.column("score"))

    return table, median_seconds(from_file, repeat=20)


def check_only(data: bytes, app, task_id: int) -> float:
    """Reading and checking the file alone."""
    from app.services.suggestions import source_files, store

    with app.app_context():
        lumisections = store.task_lumisections(task_id)
    return median_seconds(lambda: source_files.read_source_csv(data, lumisections), repeat=3)


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    data, run, number, score = scores_csv()
    folder = Path(tempfile.mkdtemp())
    timings: dict[str, list[float]] = {name: [] for name in ("file", "arrays", "csv", "binary", "parquet")}
    with postgres_database() as url:
        app = make_app(url, folder / "storage")
        task_id = populate(app)
        source_id = copy_source(app)
        text, binary = copy_payloads(source_id, run, number, score)
        for _ in range(REPEAT):
            clear(app, source_id)
            timings["csv"].append(plain_copy(app, text, binary=False))
            clear(app, source_id)
            timings["binary"].append(plain_copy(app, binary, binary=True))
            clear(app, source_id)
            timings["file"].append(timed_import(app, task_id, data, None))
            clear(app, source_id)
            timings["arrays"].append(timed_import(app, task_id, None, (run, number, score)))
            timings["parquet"].append(parquet_write(run, number, score, folder))
        checking = check_only(data, app, task_id)
        from_table, from_file = one_run_reads(app, task_id, folder)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"a source of {len(run):,} scores ({RUNS:,} runs x {LUMISECTIONS:,} lumisections) into PostgreSQL")
    print(f"medians of {REPEAT} rounds:")
    print(f"  (a) import of the CSV file (read, check, store, commit): {median['file']:6.2f} s")
    print(f"  (b) import of checked arrays (store, commit):            {median['arrays']:6.2f} s")
    print(f"  (c) plain COPY of the rows as CSV text:                  {median['csv']:6.2f} s")
    print(f"  (d) plain COPY of the rows as binary:                    {median['binary']:6.2f} s")
    print(f"  (e) writing the rows as Parquet with pyarrow:            {median['parquet']:6.2f} s")
    print(f"  reading and checking the file alone: {checking:.2f} s ({len(data) / 1e6:.0f} MB)")
    ratio = median["file"] / median["csv"]
    print(
        f"  ratio (a)/(c) {ratio:.2f} x plain COPY into the same table (target <= 3) {'ok' if ratio <= 3 else 'MISSED'}"
    )
    print(f"  ratio (b)/(c) {median['arrays'] / median['csv']:.2f}; (a)/(d) {median['file'] / median['binary']:.2f}")
    print(f"  ratio (a)/(e) {median['file'] / median['parquet']:.2f} x writing Parquet (the file alternative)")
    print(f"one run of the source ({LUMISECTIONS:,} scores): {from_table * 1000:.1f} ms from the table (and its")
    print(f"  suggested ranges), {from_file * 1000:.1f} ms from a local Parquet file (before any fetch from S3)")


if __name__ == "__main__":
    main()
