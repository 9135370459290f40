"""The shifter's queue: this module decides whether a user may certify a run, which run they certify next,
which of their certifications came back to them, and who holds a run while they certify it.

The pages and the API ask here; neither decides these rules itself. The order in which a task offers its runs
is ``app.services.suggestions.queue_order``'s, which this module asks for the runs open to a shifter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Certification, LabellingTask, QueueOrder, ReviewState, Role, RunClaim, TaskRun, User
from app.models.types import utcnow
from app.services.suggestions import queue_order

CERTIFIERS = (Role.SHIFTER, Role.SHIFT_LEADER)
CLAIM_MINUTES = 20


def may_certify(task: LabellingTask, user: User, certifications: Sequence[Certification]) -> bool:
    """Whether the user may certify a run that has these certifications in the task.

    Shifters and shift leaders may, when they have not certified the run yet and it has fewer certifications
    than the task takes (one, or two with double certification). Another shifter's claim does not forbid it:
    the run page tells who is working on the run, and the schema keeps the first certification of a race.
    """
    mine = any(c.certifier_id == user.id for c in certifications)
    return user.has_role(*CERTIFIERS) and not mine and len(certifications) < task.copies


def returned(task: LabellingTask, user: User) -> list[Certification]:
    """The user's certifications in the task that a shift leader sent back, to change and resubmit."""
    return list(
        db.session.execute(
            db.select(Certification)
            .where(
                Certification.task_id == task.id,
                Certification.certifier_id == user.id,
                Certification.review_state == ReviewState.REJECTED,
            )
            .order_by(Certification.copy, Certification.id)
        ).scalars()
    )


def next_run(task: LabellingTask, user: User, *, after: int | None = None) -> int | None:
    """The run to offer the user next, or None when nothing is left for them.

    Without ``after`` (the task page's "Certify next run"), a run sent back to them comes first. Then the first
    run open to them in the task's order (queue_order's rule, as the API's next): in run order, from the run
    after ``after`` onwards, then from the start; in an order that follows the models, the highest-ranked one.
    """
    if after is None:
        sent_back = returned(task, user)
        if sent_back:
            return sent_back[0].run_number
        after = 0
    open_runs = queue_order.open_runs_in_order(task, user.id)
    if QueueOrder(task.order) is QueueOrder.RUN:
        number = TaskRun.__table__.c.run_number
        open_runs = open_runs.order_by(None).order_by(number <= after, number)
    return db.session.execute(open_runs.limit(1)).scalar()


def claim(task: LabellingTask, run_number: int, user: User) -> RunClaim | None:
    """Claim the run for the user for CLAIM_MINUTES; returns another shifter's live claim instead, if any."""
    now = utcnow()
    current = db.session.execute(
        db.select(RunClaim).where(RunClaim.task_id == task.id, RunClaim.run_number == run_number).with_for_update()
    ).scalar_one_or_none()
    if current is not None and current.user_id != user.id and current.expires_at > now:
        db.session.rollback()
        return current
    if current is None:
        current = RunClaim(task_id=task.id, run_number=run_number)
        db.session.add(current)
    current.user_id, current.expires_at = user.id, now + timedelta(minutes=CLAIM_MINUTES)
    try:
        db.session.commit()
    except IntegrityError:  # another shifter claimed it in the same instant
        db.session.rollback()
        return db.session.execute(
            db.select(RunClaim).where(RunClaim.task_id == task.id, RunClaim.run_number == run_number)
        ).scalar_one()
    return None
