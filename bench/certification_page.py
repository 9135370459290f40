"""The certification page of a run of 3,000 lumisections with three active sources, on PostgreSQL.

Sets up a task of one run of 3,000 lumisections with three active upload sources (each with a few suggested
ranges), logs a shifter in, and prints the median server time of GET on the run's certification page (the
view, its queries, the score chart and the template, through the app's test client), with the three sources
and with none of them active (the same page, the same run); target <= 300 ms and <= 1.5 x without sources.

Needs PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL names the server (a scratch database is created on
it and dropped). Exit status 0 either way.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

import numpy as np
from _support import make_app, median_seconds, postgres_database

RUN, LUMISECTIONS, SOURCES = 320_000, 3_000, 3
PASSWORD = "bench-password-1"


def populate(app) -> int:
    """The run, its lumisections, a shifter, the task and its sources; returns the task's id."""
    from app.extensions import db
    from app.models import LabellingTask, Reco, Role, Run, TaskRun
    from app.services import accounts
    from app.services.suggestions import store
    from app.services.suggestions.source_files import SourceScores

    with app.app_context():
        db.session.add(Run(run_number=RUN, ls_count=LUMISECTIONS))
        db.session.flush()
        db.session.execute(
            db.text(
                "INSERT INTO lumisections (run_number, number, recorded_lumi, pileup, dcs_ok) "
                "SELECT :run, n, 0.05 + n * 1e-6, 50 - n * 0.01, true FROM generate_series(1, :count) n"
            ),
            {"run": RUN, "count": LUMISECTIONS},
        )
        accounts.create_user("shifter", PASSWORD, roles={Role.SHIFTER})
        # Never blind: the page shows the sources to the shifter.
        task = LabellingTask(name="bench", reco=Reco.EXPRESS, blind_fraction=0.0, runs=[TaskRun(run_number=RUN)])
        db.session.add(task)
        db.session.flush()
        rng = np.random.default_rng(0)
        number = np.arange(1, LUMISECTIONS + 1, dtype=np.int64)
        for i in range(SOURCES):
            scores = np.clip(rng.beta(1, 8, LUMISECTIONS), 0, 1)
            for first in rng.choice(LUMISECTIONS - 30, 5, replace=False):
                scores[first : first + rng.integers(2, 30)] = 0.9
            run = np.full(LUMISECTIONS, RUN, dtype=np.int64)
            store.add_source(task, SourceScores(run, number, scores), name=f"model {i}", kind="upload")
        db.session.commit()
        return task.id


def set_active(app, task_id: int, active: bool) -> None:
    """Activate or deactivate every source of the task."""
    from app.extensions import db
    from app.models import SuggestionSource
    from app.services.suggestions import store

    with app.app_context():
        for source in db.session.execute(
            db.select(SuggestionSource).where(SuggestionSource.task_id == task_id)
        ).scalars():
            store.set_active(source, active)
        db.session.commit()


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with postgres_database() as url:
        app = make_app(url, Path(tempfile.mkdtemp()) / "storage", WTF_CSRF_ENABLED=False)
        task_id = populate(app)
        client = app.test_client()
        response = client.post("/login", data={"username": "shifter", "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        path = f"/tasks/{task_id}/runs/{RUN}"

        def get() -> str:
            response = client.get(path)
            assert response.status_code == 200, response.status_code
            return response.get_data(as_text=True)

        shown = len(re.findall(r'data-testid="source"', get()))
        assert shown == SOURCES, shown
        with_sources = median_seconds(get, repeat=20)
        set_active(app, task_id, False)
        assert 'data-testid="source"' not in get()
        without = median_seconds(get, repeat=20)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    print(f"certification page of a run of {LUMISECTIONS:,} lumisections on PostgreSQL (median of 20)")
    print(f"  with {SOURCES} active sources: {with_sources * 1000:7.1f} ms")
    print(f"  without sources:          {without * 1000:7.1f} ms")
    ratio = with_sources / without
    fast = with_sources * 1000 <= 300
    print(f"  with sources: {with_sources * 1000:.1f} ms (target <= 300) {'ok' if fast else 'MISSED'}")
    print(f"  ratio with / without sources: {ratio:.2f} (target <= 1.5) {'ok' if ratio <= 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
