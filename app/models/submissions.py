"""Submissions of predictions, their scores and the finals chosen for the private board."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, BigInteger, CheckConstraint, Enum, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.accounts import User
from app.models.competitions import Competition, Participation
from app.models.phases import CompetitionPhase
from app.models.teams import Team
from app.models.types import UTCDateTime, utcnow

PLATFORM_ERROR = "platform error, not counted against your quota"


class SubmissionStatus(enum.StrEnum):
    """Where a submission is in scoring; scored and failed are final."""

    QUEUED = "queued"
    SCORING = "scoring"
    SCORED = "scored"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """Whether nothing more will happen to the submission."""
        return self in (SubmissionStatus.SCORED, SubmissionStatus.FAILED)


class Submission(Model):
    """One uploaded prediction file and everything its scoring produced."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_board", "competition_id", "status", "participation_id"),
        Index("ix_submissions_quota", "participation_id", "counted", "submitted_at"),
        Index("ix_submissions_team_quota", "team_id", "counted", "submitted_at"),
        # An organiser's baseline belongs to no participant; everything else is a participant's.
        CheckConstraint("participation_id IS NOT NULL OR is_baseline", name="baseline_or_participant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"))
    # The phase it was made in: it is scored against that phase's solution and counts on its boards only.
    phase_id: Mapped[int] = mapped_column(ForeignKey("competition_phases.id", ondelete="CASCADE"), index=True)
    participation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("participations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The team the submission counts for (its author's when made, the surviving team after a merge); None: solo.
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id"))
    status: Mapped[SubmissionStatus] = mapped_column(
        Enum(SubmissionStatus, native_enum=False, length=16, values_callable=lambda e: [s.value for s in e]),
        default=SubmissionStatus.QUEUED,
    )
    description: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str] = mapped_column(String(255))
    file_key: Mapped[str] = mapped_column(String(1000))
    file_size: Mapped[int] = mapped_column(BigInteger)
    file_sha256: Mapped[str] = mapped_column(String(64))
    # Charged to the quota; a failure refunds it by clearing this.
    counted: Mapped[bool] = mapped_column(default=True)
    is_baseline: Mapped[bool] = mapped_column(default=False)
    public_score: Mapped[Optional[float]] = mapped_column(Float)
    private_score: Mapped[Optional[float]] = mapped_column(Float)
    n_public: Mapped[Optional[int]]
    n_private: Mapped[Optional[int]]
    details: Mapped[Optional[dict]] = mapped_column(JSON)
    error: Mapped[Optional[str]] = mapped_column(Text)
    solution_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    scorer_name: Mapped[Optional[str]] = mapped_column(String(50))
    scorer_version: Mapped[Optional[str]] = mapped_column(String(20))
    worker: Mapped[Optional[str]] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    requeues: Mapped[int] = mapped_column(default=0)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    competition: Mapped[Competition] = relationship()
    phase: Mapped[CompetitionPhase] = relationship()
    participation: Mapped[Optional[Participation]] = relationship()
    user: Mapped[User] = relationship()
    team: Mapped[Optional[Team]] = relationship()
    selection: Mapped[Optional[FinalSelection]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", uselist=False
    )

    def __init__(self, **fields) -> None:
        # A competition with a single phase needs no phase named; one with several must say which.
        competition = fields.get("competition")
        named = "phase" in fields or "phase_id" in fields
        if not named and competition is not None and len(competition.phases) == 1:
            fields["phase"] = competition.phases[0]
        super().__init__(**fields)

    @property
    def selected(self) -> bool:
        """Whether the participant picked this submission for the private board."""
        return self.selection is not None

    @property
    def scoring_seconds(self) -> Optional[float]:
        """How long the worker took, once finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class FinalSelection(Model):
    """A submission a participant picked to count on the private leaderboard."""

    __tablename__ = "final_selections"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), unique=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id", ondelete="CASCADE"), index=True)
    selected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="selection")


class Rescore(Model):
    """A rescoring of every scored submission of a competition, and the scores it changed."""

    __tablename__ = "rescores"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    rescored: Mapped[int] = mapped_column(default=0)
    # [{"submission_id", "participant", "public": [old, new], "private": [old, new], "status": [old, new]}]
    changes: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[Optional[str]] = mapped_column(Text)

    competition: Mapped[Competition] = relationship()
