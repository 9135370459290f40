"""The next run a shifter is given in a task's order, claimed for them as opening its page claims it."""

from __future__ import annotations

from sqlalchemy import func

from app.extensions import db
from app.models import Certification, LabellingTask, User
from app.services.certification.workflow import claim
from app.services.suggestions.queue_order import open_runs_in_order

CANDIDATES = 20  # open runs read at once; more only when other shifters claimed all of them meanwhile


def claim_next(task: LabellingTask, user: User) -> int | None:
    """The highest-ranked run of the task open for the user, claimed for them; None when none is left.

    Shifters asking one after another get the runs in rank order. Two asking at the same instant may read the
    same best run: the claim goes to one of them (the claims' unique key decides), the other moves on to the
    next run in order.
    """
    skipped: set[int] = set()
    while True:
        candidates = [
            run
            for run in db.session.execute(open_runs_in_order(task, user.id).limit(CANDIDATES + len(skipped))).scalars()
            if run not in skipped
        ]
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
