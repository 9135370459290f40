"""Organisers' zip exports: every submission file of a competition and their scores, built by a job."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.accounts import User
from app.models.competitions import Competition
from app.models.types import UTCDateTime, text_enum, utcnow


class ExportStatus(enum.StrEnum):
    """Where an export job is; ready and failed are final."""

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class SubmissionExport(Model):
    """A zip of every submission file of a competition and their scores, built by a job for organisers."""

    __tablename__ = "submission_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[ExportStatus] = mapped_column(text_enum(ExportStatus), default=ExportStatus.BUILDING)
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

    def stored(self) -> tuple[str, str]:
        """The storage key and SHA-256 of the finished zip; only a ready export has them."""
        if self.storage_key is None or self.sha256 is None:
            raise ValueError(f"export {self.id} is {self.status.value}: its zip is not stored")
        return self.storage_key, self.sha256
