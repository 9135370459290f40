"""Who may compete: researchers (admins aside), and nobody who can read the labels of the test set.

A competition on a dataset version published from a labelling task is scored on that task's approved
labels, which shifters, shift leaders and organisers read on the task's pages and in its golden JSON, and
which whoever published the version read when publishing. None of them may join it or submit to it;
organisers submit baselines instead, which are listed and never ranked.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Competition, LabellingTask, Role, User

# The roles that open a task's certifications and golden JSON (the certification pages' and API's readers).
LABEL_READERS = (Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER)


def why_not(competition: Competition, user: User) -> str | None:
    """Why the user may not join or submit to the competition, or None when they may."""
    roles = user.roles
    admin = Role.ADMIN in roles
    if not admin and Role.RESEARCHER not in roles:
        return "Only researchers take part in competitions: ask an admin for the researcher role."
    # The competition's version, and those its phases were published in (a final phase built from a task).
    versions = [competition.dataset_version, *(p.dataset_version for p in competition.phases if p.dataset_version)]
    for version in versions:
        if version.task_id is None:
            continue
        if version.published_by_id is not None and version.published_by_id == user.id:
            return (
                f"You published the data of this competition from {_labels_of(version.task_id)}, so you know its "
                "test labels: you cannot compete on it. Organisers submit baselines instead."
            )
        readers = [role.label.lower() for role in LABEL_READERS if role in roles]
        if readers and not admin:
            return (
                f"This competition is scored on {_labels_of(version.task_id)}, which every {' and '.join(readers)} "
                "can read: accounts that read a task's certifications cannot compete on it."
            )
    return None


def _labels_of(task_id: int) -> str:
    task = db.session.get(LabellingTask, task_id)
    return f"the approved labels of the labelling task {task.name!r}" if task else "a labelling task's labels"
