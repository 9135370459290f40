"""Certification as a labelling task: tasks over runs, certifications, bad ranges, reviews, references, audit."""

from __future__ import annotations

import copy
import enum
import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.accounts import User
from app.models.runs import Run, RunClass
from app.models.suggestions import QueueOrder, RangeOrigin
from app.models.types import UTCDateTime, text_enum, utcnow

COMPONENTS = ("pixel", "strip", "tracking")

# The checklists a task starts with: what a tracker shifter goes through before certifying a run.
DEFAULT_CHECKLISTS: tuple[dict, ...] = (
    {
        "name": "general",
        "items": [
            "Run class, reconstruction and reference run match the run registry",
            "Shift e-log read for the run",
        ],
    },
    {
        "name": "pixel",
        "items": [
            "Occupancy maps: no new dead or hot modules",
            "On-track cluster charge peak in place",
        ],
    },
    {
        "name": "strip",
        "items": [
            "Signal-to-noise peak in place",
            "Tracker map: no new modules off or noisy",
        ],
    },
    {
        "name": "tracking",
        "items": [
            "Track rate and track eta-phi map compared with the reference",
            "Primary vertex position and count as expected",
        ],
    },
)

# What went wrong, as shifters file it; a certification names any number of these.
PROBLEM_CATEGORIES: dict[str, str] = {
    "dead_modules": "Dead or masked modules",
    "hv_off": "High voltage off",
    "noisy_modules": "Noisy modules or hot spots",
    "low_statistics": "Low statistics",
    "charge_shift": "Shifted cluster charge or signal-to-noise",
    "daq_errors": "DAQ or FED errors",
    "tracking_efficiency": "Tracking inefficiency",
    "beamspot_vertex": "Beam spot or vertex",
    "other": "Other",
}


class Reco(enum.StrEnum):
    """The reconstruction a certification is about."""

    EXPRESS = "express"
    PROMPT = "prompt"
    RERECO = "rereco"


class Status(enum.StrEnum):
    """A component's verdict."""

    GOOD = "good"
    BAD = "bad"
    EXCLUDED = "excluded"


class ReviewState(enum.StrEnum):
    """Where a certification stands with the shift leaders."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class LabellingTask(Model):
    """A set of runs of one reconstruction to certify, with the checklists each certification must tick."""

    __tablename__ = "labelling_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    reco: Mapped[Reco] = mapped_column(text_enum(Reco))
    dataset_name: Mapped[Optional[str]] = mapped_column(String(300))
    # [{"name": group, "items": [text, ...]}, ...]; a certification ticks each group (all of its items).
    checklists: Mapped[list] = mapped_column(JSON, default=lambda: copy.deepcopy(list(DEFAULT_CHECKLISTS)))
    # Two shifters certify each run without seeing each other's certification.
    double_certification: Mapped[bool] = mapped_column(default=False, server_default=false())
    open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The order of "Certify next run" and of the API's next.
    order: Mapped[QueueOrder] = mapped_column(text_enum(QueueOrder), default=QueueOrder.RUN, server_default="run")
    # The share of runs certified blind (no suggestion shown before the certification), drawn per run from the
    # seed so that a run's draw never depends on the other runs of the task.
    blind_fraction: Mapped[float] = mapped_column(Float, default=0.1, server_default="0.1")
    blind_seed: Mapped[int] = mapped_column(default=lambda: secrets.randbelow(2**31), server_default="0")
    # A task created over FIRST- gains every run numbered FIRST or above imported later.
    runs_from: Mapped[Optional[int]] = mapped_column(BigInteger)

    runs: Mapped[list[TaskRun]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskRun.run_number"
    )

    @property
    def checklist_names(self) -> list[str]:
        """The checklist groups a certification ticks."""
        return [group["name"] for group in self.checklists]

    @property
    def copies(self) -> int:
        """How many certifications each run gets."""
        return 2 if self.double_certification else 1


class TaskRun(Model):
    """A run in a labelling task."""

    __tablename__ = "task_runs"

    task_id: Mapped[int] = mapped_column(ForeignKey("labelling_tasks.id", ondelete="CASCADE"), primary_key=True)
    run_number: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("runs.run_number", ondelete="CASCADE"), primary_key=True
    )

    task: Mapped[LabellingTask] = relationship(back_populates="runs")
    run: Mapped[Run] = relationship(lazy="joined", viewonly=True)


class Certification(Model):
    """One shifter's certification of one run in one reconstruction (copy 2: the blind second one)."""

    __tablename__ = "certifications"
    __table_args__ = (UniqueConstraint("task_id", "run_number", "reco", "copy"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("labelling_tasks.id", ondelete="CASCADE"), index=True)
    run_number: Mapped[int] = mapped_column(BigInteger, ForeignKey("runs.run_number"))
    reco: Mapped[Reco] = mapped_column(text_enum(Reco))
    copy: Mapped[int] = mapped_column(default=1, server_default="1")
    pixel: Mapped[Status] = mapped_column(text_enum(Status))
    strip: Mapped[Status] = mapped_column(text_enum(Status))
    tracking: Mapped[Status] = mapped_column(text_enum(Status))
    pixel_lowstat: Mapped[bool] = mapped_column(default=False)
    strip_lowstat: Mapped[bool] = mapped_column(default=False)
    tracking_lowstat: Mapped[bool] = mapped_column(default=False)
    trackermap: Mapped[str] = mapped_column(String(16), default="exists")
    reference_run: Mapped[Optional[int]] = mapped_column(BigInteger)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)
    problem_categories: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    bad_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    certifier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    review_state: Mapped[ReviewState] = mapped_column(text_enum(ReviewState), default=ReviewState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The run was blind for its certifier when certified: no suggestion was shown before.
    blind: Mapped[bool] = mapped_column(default=False, server_default=false())

    certifier: Mapped[User] = relationship()
    task: Mapped[LabellingTask] = relationship(viewonly=True)
    bad_ranges: Mapped[list[BadRange]] = relationship(
        back_populates="certification", cascade="all, delete-orphan", order_by="BadRange.first"
    )
    reviews: Mapped[list[Review]] = relationship(back_populates="certification", cascade="all, delete-orphan")

    @property
    def any_bad(self) -> bool:
        """Whether a component is bad for the whole run."""
        return any(getattr(self, c) is Status.BAD for c in COMPONENTS)


class BadRange(Model):
    """Lumisections of a certified run that are bad for some components."""

    __tablename__ = "bad_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id", ondelete="CASCADE"), index=True)
    first: Mapped[int]
    last: Mapped[int]
    components: Mapped[list] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[RangeOrigin] = mapped_column(
        text_enum(RangeOrigin), default=RangeOrigin.MANUAL, server_default=RangeOrigin.MANUAL.value
    )
    # The source whose suggested range it was (origin suggested or suggested_edited).
    source_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("suggestion_sources.id", ondelete="SET NULL"), index=True
    )

    certification: Mapped[Certification] = relationship(back_populates="bad_ranges")


class Review(Model):
    """A shift leader's decision on a certification."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[ReviewState] = mapped_column(text_enum(ReviewState))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    certification: Mapped[Certification] = relationship(back_populates="reviews")


class ReferenceRun(Model):
    """A run shift leaders chose as the reference for its run class and reconstruction."""

    __tablename__ = "reference_runs"
    __table_args__ = (UniqueConstraint("run_number", "reco"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_number: Mapped[int] = mapped_column(BigInteger, ForeignKey("runs.run_number"))
    reco: Mapped[Reco] = mapped_column(text_enum(Reco))
    run_class: Mapped[Optional[RunClass]] = mapped_column(text_enum(RunClass))
    promoted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Model):
    """Who changed what, when, from what to what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int]
    before: Mapped[Optional[dict]] = mapped_column(JSON)
    after: Mapped[Optional[dict]] = mapped_column(JSON)


class RunClaim(Model):
    """A shifter working on a run of a task, so that others pick another one until the claim expires."""

    __tablename__ = "run_claims"
    __table_args__ = (UniqueConstraint("task_id", "run_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("labelling_tasks.id", ondelete="CASCADE"))
    run_number: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
