"""Model suggestions in a labelling task (the loop): sources of per-lumisection scores, their live evaluations,
and what the queue of runs reads to follow them.

Why scores are rows of the database, indexed by (source, run, lumisection), and not a Parquet file per source
as the monitoring elements are (bench/suggestions_import.py, 3,000,000 scores on PostgreSQL):
- One run of one source is one range scan of the primary key: 3,000 scores in about 4 ms, as fast as reading
  that run's row group from a local Parquet file, where a file in S3 is fetched (or range-read and cached) for
  every page that shows a run.
- Importing is all or nothing in the caller's transaction: a refused or failed import leaves no rows and
  no orphan file to clean up, and a source is deleted with its scores in one transaction.
- The import stays well within its target: about 4 s for 3,000,000 scores (read, checked, written, summarised,
  ranked), 1.3 x a plain COPY of the same rows into the same table; writing them as Parquet takes 0.2 s, but
  the import is paid once per source and the reads at every page.
- The queue never reads these rows: it reads TaskRunRank, recomputed from SourceRunStat (at most sources x runs
  rows), so a task of 1,000 runs x 3,000 lumisections x ten sources stays fast.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.accounts import User
from app.models.types import UTCDateTime, text_enum, utcnow


class SourceKind(enum.StrEnum):
    """Where a source's scores came from."""

    UPLOAD = "upload"  # an external model's CSV run,lumisection,score
    SUBMISSION = "submission"  # a scored submission whose ids are {run}_{lumisection}
    LIVE = "live"  # a live competition's predictions on the runs still to certify
    MODEL = "model"  # an ONNX model a worker runs on every run the task has and gains


class RangeOrigin(enum.StrEnum):
    """How a bad range of a certification came to be."""

    MANUAL = "manual"
    SUGGESTED = "suggested"  # a source's suggested range, accepted as it was
    SUGGESTED_EDITED = "suggested_edited"  # a suggested range whose ends the shifter changed


class QueueOrder(enum.StrEnum):
    """The order in which "Certify next run" and the API's next offer a task's runs."""

    RUN = "run"  # by run number
    UNCERTAINTY = "uncertainty"  # runs whose scores sit nearest the thresholds first
    DISAGREEMENT = "disagreement"  # runs on whose lumisections the active sources disagree most first


class SuggestionSource(Model):
    """One model's per-lumisection scores attached to a task: never labels, only suggestions to shifters."""

    __tablename__ = "suggestion_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("labelling_tasks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100), default="", server_default="")
    kind: Mapped[SourceKind] = mapped_column(text_enum(SourceKind))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A lumisection whose score is at or above the threshold is suggested bad.
    threshold: Mapped[float] = mapped_column(Float, default=0.5, server_default="0.5")
    active: Mapped[bool] = mapped_column(default=False, server_default=false())
    submission_id: Mapped[Optional[int]] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"), index=True)
    # Live sources: the live competition whose metric and weights score them on newly approved labels.
    competition_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("competitions.id", ondelete="SET NULL"), index=True
    )
    # The scores' file as stored (CSV, submission or live predictions): a live score is reproducible from it,
    # the label snapshot and the scorer version of each SourceEvaluation.
    file_key: Mapped[Optional[str]] = mapped_column(String(1000))
    file_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")  # a live post's note

    created_by: Mapped[Optional[User]] = relationship()
    evaluations: Mapped[list[SourceEvaluation]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="SourceEvaluation.at"
    )

    @property
    def live(self) -> Optional[SourceEvaluation]:
        """The latest live evaluation, None while no run was approved after the source was created."""
        return self.evaluations[-1] if self.evaluations else None


class SuggestionScore(Model):
    """A source's score of one lumisection, higher meaning more likely bad.

    The primary key (source, run, lumisection) makes one run of one source one range scan. Columns are declared
    widest first, so that PostgreSQL pads no bytes between them (24 bytes of data a row).
    No foreign key: PostgreSQL checks one row by row, and a COPY of 3,000,000 scores took 18 s with a key to the
    source against 3.6 s without (bench/suggestions_import.py). Every row is checked against the task's
    lumisections before it is written, and app.services.suggestions.store.delete_source deletes a source's
    scores with it (SQLite enforces no foreign key anyway).
    """

    __tablename__ = "suggestion_scores"
    __table_args__ = (PrimaryKeyConstraint("source_id", "run_number", "lumisection"),)

    run_number: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[int]
    lumisection: Mapped[int]
    score: Mapped[float] = mapped_column(Float)


class SourceRunStat(Model):
    """A source's summary of one run at its current threshold, recomputed when its scores or threshold change.

    The queue orders read these (at most sources x runs rows), never the millions of scores: uncertainty from the
    mean distances, disagreement from the verdicts, bitmaps over the lumisections numbered first to last (a bit
    per lumisection, packed, most significant bit first).
    """

    __tablename__ = "source_run_stats"
    __table_args__ = (PrimaryKeyConstraint("source_id", "run_number"),)

    source_id: Mapped[int] = mapped_column(ForeignKey("suggestion_sources.id", ondelete="CASCADE"))
    run_number: Mapped[int] = mapped_column(BigInteger)
    lumisections: Mapped[int]
    mean_distance: Mapped[float] = mapped_column(Float)  # mean of |score - threshold| over the run
    bad_lumisections: Mapped[int]  # scored at or above the threshold
    first_lumisection: Mapped[int]
    last_lumisection: Mapped[int]
    bad_bits: Mapped[bytes] = mapped_column(LargeBinary)  # scored at or above the threshold
    scored_bits: Mapped[Optional[bytes]] = mapped_column(LargeBinary)  # None: every one of first to last scored


class TaskRunRank(Model):
    """Where a run of a task stands in each order that follows the models, recomputed by rank_runs.

    Kept per task so that the next run is one indexed query over the task's runs, whatever the number of
    sources and scores (see app.services.suggestions.summaries.rank_runs). Ranks count from 1; ties are broken at
    random when they are computed.
    """

    __tablename__ = "task_run_ranks"
    __table_args__ = (
        PrimaryKeyConstraint("task_id", "run_number"),
        Index("ix_task_run_ranks_uncertainty", "task_id", "uncertainty_rank"),
        Index("ix_task_run_ranks_disagreement", "task_id", "disagreement_rank"),
    )

    task_id: Mapped[int] = mapped_column(ForeignKey("labelling_tasks.id", ondelete="CASCADE"))
    run_number: Mapped[int] = mapped_column(BigInteger)
    uncertainty: Mapped[Optional[float]] = mapped_column(Float)  # None: no active source scored the run
    disagreement: Mapped[Optional[float]] = mapped_column(Float)  # None: fewer than two sources scored it
    uncertainty_rank: Mapped[int]
    disagreement_rank: Mapped[int]


class SourceEvaluation(Model):
    """A source's live scores at one time, on lumisections of runs approved after the source was created.

    Each names what produced it (the labels' snapshot sha256 and the scorer's name and version), so that it can
    be recomputed from the stored predictions.
    """

    __tablename__ = "source_evaluations"
    __table_args__ = (Index("ix_source_evaluations_source_at", "source_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("suggestion_sources.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    runs: Mapped[int]
    lumisections: Mapped[int]
    roc_auc: Mapped[Optional[float]] = mapped_column(Float)  # None while the labels hold one class only
    tpr_at_fpr: Mapped[Optional[float]] = mapped_column(Float)
    fpr: Mapped[float] = mapped_column(Float, default=0.01, server_default="0.01")  # of tpr_at_fpr
    metric: Mapped[Optional[str]] = mapped_column(String(50))  # the competition's, for live sources
    score: Mapped[Optional[float]] = mapped_column(Float)
    labels_sha256: Mapped[str] = mapped_column(String(64))
    scorer_version: Mapped[str] = mapped_column(String(20))
    # The predictions scored (the source's file) and the label snapshot as stored (run, lumisection, label,
    # weight): with the scorer version, what recomputes the score exactly.
    predictions_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    labels_key: Mapped[Optional[str]] = mapped_column(String(1000))

    source: Mapped[SuggestionSource] = relationship(back_populates="evaluations")
