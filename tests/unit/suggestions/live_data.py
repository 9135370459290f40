"""A task with approved and pending runs, its labels published, and a live competition on them."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from app.extensions import db
from app.models import (
    BadRange,
    Certification,
    Competition,
    LabellingTask,
    Lumisection,
    Review,
    ReviewState,
    Role,
    User,
)
from app.services.competitions import on_datasets
from app.services.competitions.submissions import join
from app.services.datasets import publishing
from app.services.storage import get_storage
from tests.helpers import make_user
from tests.unit.suggestions.tasks import certify, make_task

LUMISECTIONS = 40
APPROVED_RUNS = (101, 102, 103, 104, 105)
PENDING_RUNS = (106, 107, 108)  # 106 certified and waiting for review, 107 and 108 not certified
SLUG = "live-ls"


@dataclass
class Live:
    """What the tests need of a live competition's setting."""

    task: LabellingTask
    version_id: int
    competition: Competition | None
    shifter: User
    leader: User
    researchers: list[User]


def bad_range(run: int) -> tuple[int, int]:
    """Each run has one bad range, so that every run holds both labels."""
    first = 3 + (run * 7) % 20
    return first, first + 5 + run % 4


def approve(certification: Certification, leader: User, at: datetime | None = None) -> None:
    """Approve a certification as a review does, at a given time if told (committed; no job is enqueued)."""
    certification.review_state = ReviewState.APPROVED
    review = Review(certification_id=certification.id, reviewer_id=leader.id, decision=ReviewState.APPROVED)
    if at is not None:
        review.created_at = at
    db.session.add(review)
    db.session.commit()


def certify_bad_range(task: LabellingTask, run: int, shifter: User) -> Certification:
    """A good certification with the run's bad range."""
    certification = certify(task, run, shifter)
    first, last = bad_range(run)
    db.session.add(BadRange(certification_id=certification.id, first=first, last=last, components=["tracking"]))
    db.session.commit()
    return certification


def make_live(
    *, live_daily_limit: int = 1, metric: str = "roc_auc", researchers: int = 2, competition: bool = True
) -> Live:
    """Five approved runs published, a live competition on them (unless told), researchers who joined it.

    Call inside an app context."""
    runs = {run: range(1, LUMISECTIONS + 1) for run in (*APPROVED_RUNS, *PENDING_RUNS)}
    task = make_task(runs)
    rng = np.random.default_rng(3)
    for lumisection in db.session.execute(db.select(Lumisection)).scalars():
        lumisection.recorded_lumi = float(rng.uniform(0.5, 1.5)) if lumisection.number > 1 else -1e-10
        lumisection.pileup = float(rng.uniform(30, 60))
    db.session.commit()
    shifter = make_user("sam", Role.SHIFTER)
    leader = make_user("lea", Role.SHIFT_LEADER)
    organiser = make_user("olga", Role.ORGANISER)
    for run in APPROVED_RUNS:
        approve(certify_bad_range(task, run, shifter), leader)
    certify_bad_range(task, PENDING_RUNS[0], shifter)
    version = publishing.publish(task, slug="tracker-live", created_by=organiser).version
    settings = on_datasets.CompetitionSettings(
        slug=SLUG, title="Live lumisections", metric=metric, live=True, live_daily_limit=live_daily_limit
    )
    people = [make_user(f"rita{i}") for i in range(researchers)]
    if not competition:
        return Live(task, version.id, None, shifter, leader, people)
    made = on_datasets.create_competition(version, settings, created_by=organiser)
    for person in people:
        join(made, person)
    db.session.commit()
    return Live(task, version.id, made, shifter, leader, people)


def pending_frame(competition: Competition) -> pd.DataFrame:
    """The competition's pending.csv as stored."""
    with get_storage().open(competition.pending_file.storage_key) as handle:
        return pd.read_csv(io.BytesIO(handle.read()), dtype={"id": str})


def predictions(ids, seed: int = 0) -> tuple[bytes, dict[str, float]]:
    """A live post's CSV over these ids, and its scores by id."""
    scores = np.random.default_rng(seed).random(len(ids))
    frame = pd.DataFrame({"id": list(ids), "label": scores})
    return frame.to_csv(index=False).encode(), dict(zip(frame["id"], scores, strict=True))
