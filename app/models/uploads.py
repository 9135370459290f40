"""Direct uploads: prediction files participants upload straight to the store, before they are submissions."""

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


class UploadState(enum.StrEnum):
    """Pending until confirmed; confirming while the server checks the file; expiring while the reaper removes it."""

    PENDING = "pending"
    CONFIRMING = "confirming"
    EXPIRING = "expiring"


class Upload(Model):
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
    state: Mapped[UploadState] = mapped_column(text_enum(UploadState), default=UploadState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    confirming_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    competition: Mapped[Competition] = relationship()
    user: Mapped[User] = relationship()
