"""Who a submission counts for: a team, or a participant alone (a team of one, with no team row).

Quotas, final selections and leaderboards count per entrant, and this module is the one place that says which
submissions are an entrant's and which row lock serialises its quota checks: the team's row for a team, the
participation's for a participant alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, update

from app.extensions import db
from app.models import Participation, Submission, Team, TeamMember
from app.services.errors import Refused

# One key per entrant in SQL: minus the team's id for a team, the participation's id for a participant alone.
ENTRANT_KEY_SQL = "COALESCE(-{s}.team_id, {s}.participation_id)"
LOCK_ATTEMPTS = 5


def entrant_key(submission=Submission) -> ColumnElement[int]:
    """ENTRANT_KEY_SQL as an expression over a submissions table (or an alias of it)."""
    return func.coalesce(-submission.team_id, submission.participation_id)


@dataclass(frozen=True)
class Entrant:
    """A team (team_id set) or a participant alone; participation_id is the participant the call is about."""

    participation_id: int | None
    team_id: int | None

    @classmethod
    def team(cls, team_id: int) -> Entrant:
        """A team, whoever the call is about."""
        return cls(None, team_id)

    def owns(self) -> ColumnElement[bool]:
        """The condition on submissions that count for this entrant."""
        if self.team_id is not None:
            return Submission.team_id == self.team_id
        return and_(Submission.participation_id == self.participation_id, Submission.team_id.is_(None))

    def counted(self, since=None, phase_id: int | None = None) -> int:
        """How many of its submissions count against quotas (failed ones are refunded), since a time and in a
        phase if given (quotas count per phase)."""
        query = db.select(func.count(Submission.id)).where(self.owns(), Submission.counted.is_(True))
        if since is not None:
            query = query.where(Submission.submitted_at >= since)
        if phase_id is not None:
            query = query.where(Submission.phase_id == phase_id)
        return db.session.execute(query).scalar_one()


def team_id_of(competition_id: int, user_id: int) -> int | None:
    """The id of the user's team in the competition as the database has it now, or None when alone."""
    return db.session.execute(
        db.select(TeamMember.team_id).where(TeamMember.competition_id == competition_id, TeamMember.user_id == user_id)
    ).scalar_one_or_none()


def entrant_of(participation: Participation) -> Entrant:
    """The entrant the participant's submissions count for now."""
    return Entrant(participation.id, team_id_of(participation.competition_id, participation.user_id))


def lock_participation(participation_id: int) -> None:
    """Take the participation's row lock (SQLite: the write lock) until the transaction ends."""
    db.session.execute(
        update(Participation)
        .where(Participation.id == participation_id)
        .values(last_submission_at=Participation.last_submission_at)
    )


def lock_team(team_id: int) -> bool:
    """Take the team's row lock until the transaction ends; False when the team is gone (merged away)."""
    result = db.session.execute(
        update(Team).where(Team.id == team_id).values(last_submission_at=Team.last_submission_at)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def lock(participation: Participation) -> Entrant:
    """The participant's entrant, locked so that its quota is counted by one transaction at a time.

    The participation is locked first, as every change of its membership (create, join, leave) locks it; only a
    merge moves it to another team without it, and deletes the team it leaves, so a team found gone is read again.
    """
    lock_participation(participation.id)
    for _ in range(LOCK_ATTEMPTS):
        team_id = team_id_of(participation.competition_id, participation.user_id)
        if team_id is None or lock_team(team_id):
            return Entrant(participation.id, team_id)
    raise Refused("Your team changed while this was being counted; try again.", 409)
