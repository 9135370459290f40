"""Operational records: checks that the background workers are alive."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class HealthCheck(Model):
    """A round trip through the job queue: requested by the web, completed by a worker."""

    __tablename__ = "health_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    worker: Mapped[Optional[str]] = mapped_column(String(200))

    @property
    def latency_seconds(self) -> Optional[float]:
        """How long the job waited and ran, once completed."""
        if self.completed_at is None:
            return None
        return (self.completed_at - self.requested_at).total_seconds()
