"""Expiring direct uploads nobody confirmed, run by the reaper in workers and in embedded mode."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, update

from app.extensions import db
from app.models.types import utcnow
from app.models.uploads import Upload, UploadState
from app.services.competitions.uploads import EXPIRY_GRACE, discard

log = logging.getLogger(__name__)


def expire_uploads(now: datetime | None = None) -> list[str]:
    """Remove uploads not confirmed in time, and confirmations a crash left halfway, with their files.

    Each upload is first moved to expiring by a conditional update, so a confirmation
    that started at the last moment keeps its file and the reaper leaves it alone; an
    upload whose file could not be removed stays expiring and is tried again next pass.
    Safe to run from many processes at once.
    """
    now = now or utcnow()
    stuck_since = now - timedelta(seconds=current_app.config["JOB_TIMEOUT"])
    due = (
        ((Upload.state == UploadState.PENDING) & (Upload.expires_at < now - EXPIRY_GRACE))
        | ((Upload.state == UploadState.CONFIRMING) & (Upload.confirming_since < stuck_since))
        | (Upload.state == UploadState.EXPIRING)
    )
    candidates = db.session.execute(db.select(Upload.id).where(due).order_by(Upload.expires_at)).scalars().all()
    removed = []
    for upload_id in candidates:
        # An UPDATE gives a CursorResult, which counts the rows it changed.
        claimed = cast(
            CursorResult,
            db.session.execute(
                update(Upload)
                .where(Upload.id == upload_id, due)
                .values(state=UploadState.EXPIRING)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        db.session.commit()
        upload = db.session.get(Upload, upload_id) if claimed else None
        if upload is None:
            continue  # confirmed, cancelled or removed by another process meanwhile
        try:
            discard(upload)
        except Exception:
            log.exception("could not remove expired upload %s; the next pass tries again", upload_id)
            db.session.rollback()
            continue
        removed.append(upload_id)
    if removed:
        log.info("removed %d expired uploads", len(removed))
    return removed
