"""What the home page shows is live: open competitions and their leaders, labelling progress, recent scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.models import Competition, LabellingTask, Submission, SubmissionStatus, User
from app.models.competitions import Phase
from app.services.certification import queries
from app.services.competitions import leaderboards


@dataclass(frozen=True)
class OpenCompetition:
    competition: Competition
    leader: leaderboards.Row | None
    participants: int


@dataclass(frozen=True)
class TaskProgress:
    task: LabellingTask
    runs: int
    certified: int
    approved: int

    @property
    def percent(self) -> int:
        return round(100 * self.certified / self.runs) if self.runs else 0


@dataclass(frozen=True)
class RecentScore:
    competition: Competition
    participant: str
    score: float
    at: datetime


def open_competitions() -> list[OpenCompetition]:
    """Competitions open now, each with the first participant of its public board."""
    competitions = db.session.execute(db.select(Competition).order_by(Competition.closes_at)).scalars()
    live = []
    for competition in competitions:
        if competition.phase() is not Phase.OPEN:
            continue
        board = [row for row in leaderboards.get(competition, "public") if not row.baseline]
        live.append(OpenCompetition(competition, board[0] if board else None, len(competition.participations)))
    return live


def labelling_progress() -> list[TaskProgress]:
    """Open labelling tasks: runs, runs certified at least once, runs approved."""
    tasks = db.session.execute(db.select(LabellingTask).where(LabellingTask.open)).scalars().all()
    counts = queries.task_progress(tasks)
    return [
        TaskProgress(task, counts[task.id].runs, counts[task.id].runs_certified, counts[task.id].runs_approved)
        for task in tasks
    ]


def recent_scores(limit: int = 6) -> list[RecentScore]:
    """The latest public scores of submissions to competitions that have opened."""
    rows = db.session.execute(
        db.select(Submission, User.username)
        .join(User, User.id == Submission.user_id)
        .where(Submission.status == SubmissionStatus.SCORED, Submission.public_score.is_not(None))
        .order_by(Submission.finished_at.desc())
        .limit(limit * 3)
    ).all()
    scores = [
        RecentScore(
            s.competition,
            (s.description or s.file_name) if s.is_baseline else name,
            s.public_score,
            s.finished_at or s.submitted_at,
        )
        for s, name in rows
        if s.competition.phase() is not Phase.UPCOMING
    ]
    return scores[:limit]
