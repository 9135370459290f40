"""The next run for a shifter in the task's order: the query behind "Certify next run" and the API's next.

A run is open for a shifter while they have not certified it, it has fewer certifications than the task needs
(two with double certification), and nobody else holds a live claim on it (a run with one certification
already is open to a second certifier whoever holds it, as on the task page). Among open runs, the task's order
decides: by run number, or by the ranks rank_runs stored (runs the task gained since come after the ranked
ones, by run number).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, exists, func, select

from app.extensions import db
from app.models import Certification, LabellingTask, QueueOrder, RunClaim, TaskRun, TaskRunRank
from app.models.types import utcnow


def open_runs_in_order(
    task: LabellingTask, user_id: int, *, order: QueueOrder | str | None = None, now: datetime | None = None
) -> Select:
    """The SELECT of the run numbers open for the user, best first in the order (the task's unless given)."""
    order = QueueOrder(order or task.order)
    now = now or utcnow()
    run = TaskRun.__table__.c
    certification = Certification.__table__.c
    claim = RunClaim.__table__.c
    rank = TaskRunRank.__table__.c
    of_run = and_(certification.task_id == task.id, certification.run_number == run.run_number)
    certified = select(func.count()).where(of_run).scalar_subquery()
    mine = exists().where(of_run, certification.certifier_id == user_id)
    held = exists().where(
        claim.task_id == task.id,
        claim.run_number == run.run_number,
        claim.user_id != user_id,
        claim.expires_at > now,
    )
    query = select(run.run_number).where(
        run.task_id == task.id, ~mine, certified < task.copies, (certified > 0) | ~held
    )
    if order is QueueOrder.RUN:
        return query.order_by(run.run_number)
    position = rank.uncertainty_rank if order is QueueOrder.UNCERTAINTY else rank.disagreement_rank
    return query.outerjoin(
        TaskRunRank.__table__, and_(rank.task_id == run.task_id, rank.run_number == run.run_number)
    ).order_by(position.is_(None), position, run.run_number)


def next_run(
    task: LabellingTask, user_id: int, *, order: QueueOrder | str | None = None, now: datetime | None = None
) -> int | None:
    """The highest-ranked run of the task open for the user, or None when none is left."""
    return db.session.execute(open_runs_in_order(task, user_id, order=order, now=now).limit(1)).scalar()
