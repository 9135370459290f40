"""Competitions and the people taking part in them."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.accounts import User
from app.models.datasets import DatasetFile, DatasetVersion
from app.models.phases import DEFAULT_PHASE, CompetitionPhase, Phase, Window, stage_at, windows
from app.models.types import UTCDateTime, utcnow

DEFAULT_TEAM_SIZE = 5  # without a teams setting: Kaggle's most common limit


class Competition(Model):
    """A benchmark on a dataset version: a metric, a hidden solution, limits and dates."""

    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    overview: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when rendered
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    solution_file_id: Mapped[int] = mapped_column(ForeignKey("dataset_files.id"))
    sample_submission: Mapped[Optional[str]] = mapped_column(String(255))
    metric: Mapped[str] = mapped_column(String(50))
    metric_params: Mapped[dict] = mapped_column(JSON, default=dict)
    id_column: Mapped[str] = mapped_column(String(100), default="id")
    target_column: Mapped[str] = mapped_column(String(100))
    public_fraction: Mapped[float] = mapped_column(Float, default=0.3)
    split_seed: Mapped[int] = mapped_column(default=0)
    opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closes_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    daily_limit: Mapped[int] = mapped_column(default=5)
    total_limit: Mapped[Optional[int]]
    final_selections: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A live competition (on a version published from a labelling task) also serves pending.csv, the task's
    # lumisections still to certify, and takes live predictions on them: sources of the task, scored on the
    # labels approved after they were made.
    live: Mapped[bool] = mapped_column(default=False, server_default=false())
    live_daily_limit: Mapped[int] = mapped_column(default=1, server_default="1")
    # Teams: how many people one may hold (1: everyone competes alone), and until when teams may merge, take
    # members or lose them once they submitted (none: until the close).
    team_max_size: Mapped[int] = mapped_column(default=DEFAULT_TEAM_SIZE, server_default=str(DEFAULT_TEAM_SIZE))
    merge_deadline: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    dataset_version: Mapped[DatasetVersion] = relationship()
    solution_file: Mapped[DatasetFile] = relationship()
    participations: Mapped[list[Participation]] = relationship(back_populates="competition")
    pending_file: Mapped[Optional[PendingFile]] = relationship(cascade="all, delete-orphan")
    phases: Mapped[list[CompetitionPhase]] = relationship(
        back_populates="competition", order_by=CompetitionPhase.position, cascade="all, delete-orphan"
    )

    def __init__(self, **settings) -> None:
        # Every competition has at least one phase: without declared phases, one that takes all its settings.
        settings.setdefault("phases", [CompetitionPhase(name=DEFAULT_PHASE, position=0)])
        super().__init__(**settings)

    def phase(self, now: datetime | None = None) -> Phase:
        """Upcoming before opens_at, closed after closes_at, open in between."""
        return stage_at(self.opens_at, self.closes_at, now or utcnow())

    def phase_windows(self) -> list[Window]:
        """When each of its phases accepts submissions, in order."""
        return windows(self.opens_at, self.closes_at, [(p.name, p.opens_at, p.closes_at) for p in self.phases])

    def downloadable_files(
        self, now: datetime | None = None, *, every_phase: bool = False
    ) -> list[DatasetFile | PendingFile]:
        """The files participants download: those of every phase that opened (of every phase, for organisers),
        and pending.csv once a live one has it; never a solution."""
        now = now or utcnow()
        files: dict[str, DatasetFile | PendingFile] = {}
        for phase, window in zip(self.phases, self.phase_windows(), strict=True):
            if every_phase or window.opened(now):
                for file in phase.public_files:
                    files.setdefault(file.name, file)
        if self.live and self.pending_file is not None:
            files.setdefault(self.pending_file.name, self.pending_file)
        return list(files.values())

    @property
    def files(self) -> list[DatasetFile | PendingFile]:
        """The files participants download now."""
        return self.downloadable_files()

    def public_file(self, name: str, *, every_phase: bool = False) -> DatasetFile | PendingFile | None:
        """A downloadable file of the competition by name; never a solution, nor a file of a phase not yet open."""
        return next((f for f in self.downloadable_files(every_phase=every_phase) if f.name == name), None)

    def teams_fixed(self, now: datetime | None = None) -> bool:
        """Whether teams may no longer merge or take members: after the merge deadline, or once closed."""
        now = now or utcnow()
        return (self.merge_deadline is not None and now >= self.merge_deadline) or self.phase(now) is Phase.CLOSED

    def private_revealed(self, now: datetime | None = None) -> bool:
        """Whether the private leaderboard and private scores are public: only after the close."""
        return self.phase(now) is Phase.CLOSED


PENDING_NAME = "pending.csv"


class PendingFile(Model):
    """A live competition's pending.csv as last written: one row per lumisection of its task's runs without an
    approved certification, rewritten by a job when runs are imported or approved (a new key each time)."""

    __tablename__ = "pending_files"

    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    runs: Mapped[int]
    lumisections: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def name(self) -> str:
        """How participants download it."""
        return PENDING_NAME


class Participation(Model):
    """A user who joined a competition and accepted its rules; the unit a leaderboard ranks."""

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("competition_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rules_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Touched by every submission, so that the row lock serialises one participant's quota checks.
    last_submission_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    competition: Mapped[Competition] = relationship(back_populates="participations")
    user: Mapped[User] = relationship()

    @property
    def name(self) -> str:
        """How the participant appears on leaderboards."""
        return self.user.username
