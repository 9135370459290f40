"""Jobs of live competitions: pending.csv rewritten as runs are imported and approved, live sources scored as
approvals land. Each is idempotent: running one twice, or two at once, leaves what one run leaves."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Competition, DatasetVersion, TaskRun
from app.services.suggestions import live_scoring, pending
from workers.context import job_context


def refresh_pending(competition_id: int) -> None:
    """Rewrite one live competition's pending.csv."""
    with job_context():
        pending.refresh(competition_id)


def runs_imported(run_numbers: list[int]) -> None:
    """Rewrite pending.csv of every live competition whose task holds one of these runs."""
    with job_context():
        competitions = db.session.execute(
            select(Competition.id)
            .join(DatasetVersion, Competition.dataset_version_id == DatasetVersion.id)
            .join(TaskRun, TaskRun.task_id == DatasetVersion.task_id)
            .where(Competition.live.is_(True), TaskRun.run_number.in_(run_numbers))
            .distinct()
        ).scalars()
        for competition_id in list(competitions):
            pending.refresh(competition_id)


def approvals_landed(task_id: int) -> None:
    """Rewrite pending.csv of the task's live competitions, then score every live source of the task."""
    with job_context():
        for competition in pending.live_competitions(task_id):
            pending.refresh(competition.id)
        live_scoring.evaluate_task(task_id)
