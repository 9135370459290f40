"""Teams: participants of a competition who compete as one, and the merges their leaders agree on.

A participant without a team is a team of one and has no row here: their submissions carry no team, and
quotas, finals and the leaderboard count them by their participation as before teams existed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.accounts import User
from app.models.competitions import Competition
from app.models.types import UTCDateTime, utcnow


def new_invite_token() -> str:
    """A secret that lets whoever holds it join a team."""
    return secrets.token_urlsafe(24)


class Team(Model):
    """A team of a competition: its name on the leaderboard, its leader and the token that invites members."""

    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("competition_id", "name"),
        # Members name their team together with its competition, so a member can only be in a team of theirs.
        UniqueConstraint("id", "competition_id", name="uq_teams_id_competition"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    invite_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_invite_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Touched by every submission of the team, so that the row lock serialises its members' quota checks.
    last_submission_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    competition: Mapped[Competition] = relationship()
    leader: Mapped[User] = relationship()
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", order_by="TeamMember.joined_at, TeamMember.id", cascade="all, delete-orphan"
    )

    def has_member(self, user: User | None) -> bool:
        """Whether the user is in the team now."""
        return user is not None and any(member.user_id == user.id for member in self.members)


class TeamMember(Model):
    """A participant in a team; a participant is in at most one team of a competition."""

    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("competition_id", "user_id"),
        ForeignKeyConstraint(
            ["team_id", "competition_id"],
            ["teams.id", "teams.competition_id"],
            name="fk_team_members_team_competition",
            ondelete="CASCADE",
        ),
        # Only someone who joined the competition (and accepted its rules) is in one of its teams.
        ForeignKeyConstraint(
            ["competition_id", "user_id"],
            ["participations.competition_id", "participations.user_id"],
            name="fk_team_members_participation",
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int]
    team_id: Mapped[int] = mapped_column(index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class TeamMergeRequest(Model):
    """One leader's agreement to merge team into team ``into``; the other leader's agreement performs it."""

    __tablename__ = "team_merge_requests"
    __table_args__ = (UniqueConstraint("team_id", "into_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    into_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # The team whose leader asked; the leader of the other team accepts.
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(foreign_keys=[team_id])
    into: Mapped[Team] = relationship(foreign_keys=[into_id])
