"""When live competitions must catch up, and the jobs that make them (workers.live, enqueued by path).

Two moments change what a live competition serves and how its live sources score: runs imported (their
lumisections join pending.csv) and approvals that land or are withdrawn (their lumisections leave it, and live
sources are scored on them). The run import and the certification workflow call these after their commit;
a queue outage is logged and never hides what was committed, and the next import or approval catches up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from app.extensions import db
from app.models import Competition, DatasetVersion
from app.services.queue import enqueue

RUNS_IMPORTED_JOB = "workers.live.runs_imported"
APPROVALS_JOB = "workers.live.approvals_landed"
log = logging.getLogger(__name__)


def runs_imported(run_numbers: Iterable[int]) -> None:
    """Runs were imported (committed): live competitions rewrite their pending.csv."""
    runs = sorted(run_numbers)
    if runs and db.session.execute(db.select(Competition.id).where(Competition.live.is_(True)).limit(1)).first():
        _enqueue(RUNS_IMPORTED_JOB, runs)


def approvals_changed(task_id: int) -> None:
    """An approval of the task landed or was withdrawn (committed): its live competitions catch up."""
    live = (
        db.select(Competition.id)
        .join(DatasetVersion, Competition.dataset_version_id == DatasetVersion.id)
        .where(DatasetVersion.task_id == task_id, Competition.live.is_(True))
        .limit(1)
    )
    if db.session.execute(live).first() is not None:
        _enqueue(APPROVALS_JOB, task_id)


def _enqueue(job: str, argument: object) -> None:
    try:
        enqueue(job, argument)
    except Exception:  # a queue outage must not hide what was committed
        log.exception("could not enqueue %s(%r)", job, argument)
