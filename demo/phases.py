"""The running competition's phases in the demo: its development phase on the published dataset, closed, and a
final phase on the runs shift leaders approved after the dataset was published, open: the loop's cosmics runs,
bad throughout (no stable beams), and a collision run that was awaiting review, approved now.

The final phase is built as an organiser builds it from the competition's Phases page: the task's runs approved
after the publication, none of them in the development data, published all on the test side as version 2 of the
dataset. The organiser's baselines and two researchers' models, trained on the development data, are submitted
to it; everything made before today belongs to the development phase, which closed at midnight. On runs nobody
tuned on, the development board's order does not hold: the logistic regression that led it ranks the new
runs' bad lumisections last.
"""

from __future__ import annotations

import pandas as pd

from app.extensions import db
from app.models import Certification, Competition, CompetitionPhase, LabellingTask, ReviewState, User
from app.models.types import utcnow
from app.services.certification import workflow
from app.services.competitions import final_phase
from app.services.competitions.quotas import utc_day_start
from app.services.datasets import queries
from baselines import isolation_forest
from demo.competitions import BASELINES, Entry, boosting, submit_entries, wait_for_scores
from demo.tracker import reviewer_for

FINAL = "final"


def final_phase_on_later_runs(
    competition: Competition,
    task: LabellingTask,
    users: dict[str, User],
    researchers: list[User],
) -> CompetitionPhase | None:
    """The final phase of the running competition, with its first submissions (once)."""
    if any(phase.name == FINAL for phase in competition.phases):
        return None
    development, organiser = competition.dataset_version, users["olga"]
    awaiting = db.session.execute(
        db.select(Certification)
        .where(Certification.task_id == task.id, Certification.review_state == ReviewState.PENDING)
        .order_by(Certification.run_number)
    ).scalars()
    caught_up = next(awaiting, None)  # the review queue catches up with one collision run; one still waits
    if caught_up is not None:
        workflow.review(caught_up, reviewer_for(caught_up, [users["lea"], users["nora"]]), "approve")
    phase = final_phase.add_final_phase(
        competition,
        name=FINAL,
        task=task,
        approved_after=development.created_at,
        opens_at=utc_day_start(utcnow()),
        closes_at=competition.closes_at,
        created_by=organiser,
    )
    train = _read(development, "train.csv")
    test = queries.read_file(next(f for f in phase.public_files if f.name == phase.test_file))
    entries = [Entry(organiser, name, predict(train, test), baseline=True) for name, predict in BASELINES]
    _, ravi, mia = researchers
    entries += [
        Entry(mia, "gradient boosting, 30 trees, trained on the development data", boosting(train, test, 30)),
        Entry(ravi, "isolation forest, as in development", isolation_forest.predict(train, test, 1)),
    ]
    submit_entries(competition, entries, test)
    wait_for_scores()
    return phase


def _read(version, name: str) -> pd.DataFrame:
    return queries.read_file(next(f for f in version.public_files if f.name == name))
