"""Reads of labelling tasks for the pages and the API: a task's certifications by run, task progress, and when
each approved run was approved.

Task progress is counted here once, in one GROUP BY query, for the task list, the API and the home page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Certification, LabellingTask, Review, ReviewState, TaskRun


@dataclass(frozen=True)
class TaskProgress:
    """How far a task is: its runs, its certifications by review state, and the runs certified and approved."""

    task_id: int
    runs: int
    pending: int
    approved: int
    rejected: int
    runs_certified: int
    runs_approved: int

    @property
    def certified(self) -> int:
        """Certifications recorded (two per run once a double-certification task is done)."""
        return self.pending + self.approved + self.rejected

    def as_json(self) -> dict[str, int]:
        """The progress counts of the API's task list."""
        states = {state.value: getattr(self, state.value) for state in ReviewState}
        return {"runs": self.runs, "certified": self.certified, **states}


def certifications_by_run(task: LabellingTask) -> dict[int, list[Certification]]:
    """The task's certifications by run, first copy first, with their bad ranges and certifiers (loaded in two
    more queries, not one per certification: the task page shows them for every run)."""
    rows = db.session.execute(
        db.select(Certification)
        .where(Certification.task_id == task.id)
        .order_by(Certification.copy)
        .options(selectinload(Certification.bad_ranges), selectinload(Certification.certifier))
    ).scalars()
    by_run: dict[int, list[Certification]] = {}
    for certification in rows:
        by_run.setdefault(certification.run_number, []).append(certification)
    return by_run


def task_progress(tasks: Iterable[LabellingTask]) -> dict[int, TaskProgress]:
    """The progress of each task, by task id, in one query."""
    ids = [task.id for task in tasks]
    if not ids:
        return {}
    runs = select(TaskRun.task_id, func.count().label("runs")).group_by(TaskRun.task_id).subquery()
    state = Certification.review_state
    counts = (
        select(
            Certification.task_id,
            *(func.count().filter(state == s).label(s.value) for s in ReviewState),
            func.count(distinct(Certification.run_number)).label("runs_certified"),
            func.count(distinct(Certification.run_number)).filter(state == ReviewState.APPROVED).label("runs_approved"),
        )
        .group_by(Certification.task_id)
        .subquery()
    )
    columns = ("pending", "approved", "rejected", "runs_certified", "runs_approved")
    rows = db.session.execute(
        select(
            LabellingTask.id,
            func.coalesce(runs.c.runs, 0),
            *(func.coalesce(counts.c[name], 0) for name in columns),
        )
        .outerjoin(runs, runs.c.task_id == LabellingTask.id)
        .outerjoin(counts, counts.c.task_id == LabellingTask.id)
        .where(LabellingTask.id.in_(ids))
    ).all()
    return {row[0]: TaskProgress(*row) for row in rows}


def approval_times(task_id: int) -> dict[int, datetime]:
    """When each approved run of the task was last approved (the latest approving review of its approved
    certifications): live sources are scored, and final phases built, on runs approved after a moment."""
    rows = db.session.execute(
        select(Certification.run_number, func.max(Review.created_at))
        .join(Review, Review.certification_id == Certification.id)
        .where(
            Certification.task_id == task_id,
            Certification.review_state == ReviewState.APPROVED,
            Review.decision == ReviewState.APPROVED,
        )
        .group_by(Certification.run_number)
    ).all()
    return {int(run): at for run, at in rows}
