"""Who may compete: researchers (admins aside), and nobody who can read the labels of the test set.

A competition on a dataset version published from a labelling task is scored on that task's approved
labels, which its shifters and shift leaders read on the task's pages and in its golden JSON, and which
the organiser who published the version read when publishing. None of them may join it or submit to it;
organisers submit baselines instead, which are listed and never ranked.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Competition, LabellingTask, Role, User

LABEL_READERS = (Role.SHIFTER, Role.SHIFT_LEADER)


def why_not(competition: Competition, user: User) -> str | None:
    """Why the user may not join or submit to the competition, or None when they may."""
    roles = user.roles
    admin = Role.ADMIN in roles
    if not admin and Role.RESEARCHER not in roles:
        return "Only researchers take part in competitions: ask an admin for the researcher role."
    version = competition.dataset_version
    if version.task_id is None:
        return None
    task = db.session.get(LabellingTask, version.task_id)
    source = f"the approved labels of the labelling task {task.name!r}" if task else "a labelling task's labels"
    if version.published_by_id is not None and version.published_by_id == user.id:
        return (
            f"You published the data of this competition from {source}, so you know its test labels: "
            "you cannot compete on it. Organisers submit baselines instead."
        )
    readers = sorted(role.label.lower() for role in LABEL_READERS if role in roles)
    if readers and not admin:
        return (
            f"This competition is scored on {source}, which every {' and '.join(readers)} can read: "
            "accounts that certify or review runs cannot compete on it."
        )
    return None
