"""The shifter's queue: this module decides whether a user may certify a run, which run they certify next,
which of their certifications came back to them, and who holds a run while they certify it.

The pages and the API ask here; neither decides these rules itself. The order in which a task offers its runs
is ``app.services.suggestions.queue_order``'s, which this module asks for the runs open to a shifter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Certification, LabellingTask, QueueOrder, ReviewState, Role, RunClaim, TaskRun, User
from app.models.types import utcnow
from app.services.suggestions import queue_order

CERTIFIERS = (Role.SHIFTER, Role.SHIFT_LEADER)
CLAIM_MINUTES = 20
CANDIDATES = 20  # open runs claim_next reads at once; more only when others claimed all of them meanwhile


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
    # Read before the new claim is in the session: after a rollback the user is expired, and loading its id
    # would flush a claim without its holder.
    user_id = user.id
    current = db.session.execute(
        db.select(RunClaim).where(RunClaim.task_id == task.id, RunClaim.run_number == run_number).with_for_update()
    ).scalar_one_or_none()
    if current is not None and current.user_id != user_id and current.expires_at > now:
        db.session.rollback()
        return current
    if current is None:
        current = RunClaim(task_id=task.id, run_number=run_number)
        db.session.add(current)
    current.user_id, current.expires_at = user_id, now + timedelta(minutes=CLAIM_MINUTES)
    try:
        db.session.commit()
    except IntegrityError:  # another shifter claimed it in the same instant
        db.session.rollback()
        return db.session.execute(
            db.select(RunClaim).where(RunClaim.task_id == task.id, RunClaim.run_number == run_number)
        ).scalar_one()
    return None


def claim_next(task: LabellingTask, user: User) -> int | None:
    """The highest-ranked run open to the user in the task's order (the API's next), claimed for them as opening
    its page claims it; None when none is left.

    Shifters asking one after another get the runs in rank order. Two asking at the same instant may read the
    same best run: the claim goes to one of them (the claims' unique key decides), the other moves on to the
    next run in order.
    """
    skipped: set[int] = set()
    while True:
        query = queue_order.open_runs_in_order(task, user.id).limit(CANDIDATES + len(skipped))
        candidates = [run for run in db.session.execute(query).scalars() if run not in skipped]
        if not candidates:
            return None
        for run in candidates:
            certified = _certifications(task, run)
            if 0 < certified < task.copies:
                return run  # open to a second certifier whoever holds it, as on the task page; nothing to claim
            if certified == 0 and claim(task, run, user) is None:
                return run
            skipped.add(run)  # claimed or certified by another shifter since the candidates were read


def _certifications(task: LabellingTask, run_number: int) -> int:
    return int(
        db.session.execute(
            db.select(func.count())
            .select_from(Certification)
            .where(Certification.task_id == task.id, Certification.run_number == run_number)
        ).scalar_one()
    )
