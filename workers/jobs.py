"""Job functions. Each enters its own app context, so any worker process can run it."""

from __future__ import annotations

import os
import socket

from app.extensions import db
from app.models import HealthCheck
from app.models.types import utcnow
from workers.context import job_context


def health_check(check_id: int) -> None:
    """Complete a health check: proves a worker can take jobs and write to the database."""
    with job_context():
        check = db.session.get(HealthCheck, check_id)
        if check is None:
            return
        check.completed_at = utcnow()
        check.worker = f"{socket.gethostname()}:{os.getpid()}"
        db.session.commit()
