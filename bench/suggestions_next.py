"""The next run in uncertainty order over 1,000 runs x 1,000 lumisections x 3 sources, on PostgreSQL.

Sets up a task of 1,000 runs, each of 1,000 lumisections, with three active sources (3,000,000 scores); half
the runs are certified by other shifters and a tenth are held by others' live claims. Then prints the medians:
- the lookup `next` runs (`queue_order.next_run`: the open runs of the shifter in the task's TaskRunRank
  order, first one), in uncertainty order and in disagreement order, and in run order as the baseline
  (the same filters without the ranks); target <= 200 ms for uncertainty;
- `store.rank_runs` (what a change of sources or thresholds pays so that `next` stays one indexed query), and
  `store.set_threshold` of one source (its scores read back, its summaries and the task's ranks);
- one run's suggestions of the three sources (`store.run_suggestions`, as the certification page reads them).

Needs PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL names the server (a scratch database is created on
it and dropped). Exit status 0 either way.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np
from _support import make_app, median_seconds, postgres_database

RUNS, LUMISECTIONS, SOURCES = 1_000, 1_000, 3
FIRST_RUN = 300_000
SHIFTERS = 20


def populate(app) -> tuple[int, int, list[float]]:
    """Runs, lumisections, shifters, a task with its sources, certifications and claims; the task, a shifter
    with nothing certified, and the seconds each source's import took."""
    from app.extensions import db
    from app.models import LabellingTask, QueueOrder, Reco, TaskRun
    from app.services.suggestions import store
    from app.services.suggestions.source_files import SourceScores

    with app.app_context():
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        last = FIRST_RUN + RUNS - 1
        cursor.execute(
            "INSERT INTO runs (run_number, imported_at) SELECT g, now() FROM generate_series(%s, %s) g",
            (FIRST_RUN, last),
        )
        cursor.execute(
            "INSERT INTO lumisections (run_number, number) SELECT r, n FROM generate_series(%s, %s) r, "
            "generate_series(1, %s) n",
            (FIRST_RUN, last, LUMISECTIONS),
        )
        cursor.execute(
            "INSERT INTO users (username, password_hash, active, created_at, session_version) "
            "SELECT 'shifter' || g, 'x', true, now(), 0 FROM generate_series(1, %s) g",
            (SHIFTERS,),
        )
        task = LabellingTask(
            name="bench",
            reco=Reco.EXPRESS,
            order=QueueOrder.UNCERTAINTY,
            runs=[TaskRun(run_number=FIRST_RUN + i) for i in range(RUNS)],
        )
        db.session.add(task)
        db.session.flush()
        run = np.repeat(np.arange(FIRST_RUN, last + 1, dtype=np.int64), LUMISECTIONS)
        number = np.tile(np.arange(1, LUMISECTIONS + 1, dtype=np.int64), RUNS)
        rng = np.random.default_rng(0)
        imports = []
        for i in range(SOURCES):
            # Each run has its own level of trouble; each source sees it with its own noise.
            level = np.repeat(rng.beta(0.5, 3.0, RUNS), LUMISECTIONS)
            scores = np.clip(level + rng.normal(0, 0.1 + 0.05 * i, len(run)), 0, 1)
            start = time.perf_counter()
            store.add_source(task, SourceScores(run, number, scores), name=f"model {i}", kind="upload")
            db.session.commit()
            imports.append(time.perf_counter() - start)
        users = [u for (u,) in db.session.execute(db.text("SELECT id FROM users ORDER BY id")).all()]
        certify_sql = (
            "INSERT INTO certifications (task_id, run_number, reco, copy, pixel, strip, tracking, pixel_lowstat, "
            "strip_lowstat, tracking_lowstat, trackermap, checklist, problem_categories, bad_reason, comment, "
            "certifier_id, review_state, created_at, updated_at, blind) "
            "SELECT %s, r, 'express', 1, 'good', 'good', 'good', false, false, false, 'exists', '{}', '[]', '', '', "
            "%s + (r %% %s), 'pending', now(), now(), false FROM generate_series(%s, %s, 2) r"
        )
        cursor.execute(certify_sql, (task.id, users[1], SHIFTERS - 1, FIRST_RUN, last))
        cursor.execute(
            "INSERT INTO run_claims (task_id, run_number, user_id, expires_at) "
            "SELECT %s, r, %s, now() + interval '20 minutes' FROM generate_series(%s, %s, 10) r",
            (task.id, users[1], FIRST_RUN + 1, last),
        )
        cursor.execute("ANALYZE")
        db.session.commit()
        return task.id, users[0], imports


def measure(app, task_id: int, user_id: int) -> dict[str, float]:
    """Median seconds of each measured operation."""
    from app.extensions import db
    from app.models import LabellingTask, SuggestionSource
    from app.services.suggestions import queue_order, store

    with app.app_context():
        task = db.session.get(LabellingTask, task_id)
        found = {order: queue_order.next_run(task, user_id, order=order) for order in ("run", "uncertainty")}
        assert None not in found.values(), found
        times = {
            f"next ({order})": median_seconds(lambda o=order: queue_order.next_run(task, user_id, order=o), repeat=50)
            for order in ("uncertainty", "disagreement", "run")
        }

        def rank() -> None:
            store.rank_runs(task)
            db.session.commit()

        times["rank_runs"] = median_seconds(rank, repeat=3)
        source = db.session.execute(db.select(SuggestionSource).order_by(SuggestionSource.id)).scalars().first()

        def threshold() -> None:
            store.set_threshold(source, 0.4 if source.threshold != 0.4 else 0.5)
            db.session.commit()

        times["set_threshold"] = median_seconds(threshold, repeat=3)
        times["run suggestions"] = median_seconds(lambda: store.run_suggestions(task, FIRST_RUN + 7), repeat=20)
        db.session.rollback()
        return times


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with postgres_database() as url:
        app = make_app(url, Path(tempfile.mkdtemp()) / "storage")
        task_id, user_id, imports = populate(app)
        times = measure(app, task_id, user_id)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    print(f"{RUNS:,} runs x {LUMISECTIONS:,} lumisections x {SOURCES} sources on PostgreSQL, half the runs certified")
    print(f"  importing each source ({RUNS * LUMISECTIONS:,} scores): " + ", ".join(f"{s:.2f} s" for s in imports))
    for order in ("uncertainty", "disagreement", "run"):
        print(f"  next in {order} order (median of 50): {times[f'next ({order})'] * 1000:7.2f} ms")
    lookup = times["next (uncertainty)"] * 1000
    print(f"  next in uncertainty order: {lookup:.2f} ms (target <= 200) {'ok' if lookup <= 200 else 'MISSED'}")
    ratio = times["next (uncertainty)"] / times["next (run)"]
    print(f"  ratio uncertainty / run order: {ratio:.2f}")
    print(f"  rank_runs (median of 3, committed): {times['rank_runs']:.2f} s")
    print(f"  a new threshold of one source (its scores read back, summaries, ranks): {times['set_threshold']:.2f} s")
    print(f"  one run's suggestions of {SOURCES} sources: {times['run suggestions'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
