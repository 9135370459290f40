"""Submission files moving in and out in bulk: direct uploads to the store, and organisers' zip exports."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.competitions import Competition
from app.models.types import UTCDateTime, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [s.value for s in e])


class UploadState(enum.StrEnum):
    """Pending until confirmed; confirming while the server checks the file; expiring while the reaper removes it."""

    PENDING = "pending"
    CONFIRMING = "confirming"
    EXPIRING = "expiring"


class Upload(db.Model):
    """A prediction file a participant is uploading straight to the store, not yet a submission.

    The row lives from the presigned URLs being handed out until the confirmation
    turns it into a submission, a check refuses it, or it expires; in every case the
    row goes, and the stored object with it unless a submission now points to it.
    """

    __tablename__ = "uploads"

    # Random, and part of the storage key: the key is scoped to the submission it becomes.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger)  # as announced; the stored object must match it
    storage_key: Mapped[str] = mapped_column(String(1000))
    multipart_id: Mapped[Optional[str]] = mapped_column(String(1000))  # the store's id of a multipart upload
    state: Mapped[UploadState] = mapped_column(_enum(UploadState), default=UploadState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    confirming_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    competition: Mapped[Competition] = relationship()
    user: Mapped[User] = relationship()


class ExportStatus(enum.StrEnum):
    """Where an export job is; ready and failed are final."""

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class SubmissionExport(db.Model):
    """A zip of every submission file of a competition and their scores, built by a job for organisers."""

    __tablename__ = "submission_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[ExportStatus] = mapped_column(_enum(ExportStatus), default=ExportStatus.BUILDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    storage_key: Mapped[Optional[str]] = mapped_column(String(1000))
    files: Mapped[Optional[int]]
    size: Mapped[Optional[int]] = mapped_column(BigInteger)
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    error: Mapped[Optional[str]] = mapped_column(Text)

    competition: Mapped[Competition] = relationship()
    requested_by: Mapped[Optional[User]] = relationship()

    @property
    def file_name(self) -> str:
        """The name the zip downloads as."""
        return f"{self.competition.slug}-submissions-{self.id}.zip"
