"""Bulk exports of a competition's submissions: requesting one and reading its status.

The zip itself is built by the ``workers.export.build_export`` job; see workers/export.py.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Competition, User
from app.models.exports import ExportStatus, SubmissionExport
from app.services.queue import enqueue

EXPORT_JOB = "workers.export.build_export"
EXPORT_TIMEOUT = 6 * 3600


def request_export(competition: Competition, user: User) -> SubmissionExport:
    """Start building an export, or return the one already being built."""
    building = SubmissionExport.competition_id == competition.id, SubmissionExport.status == ExportStatus.BUILDING
    export = db.session.execute(db.select(SubmissionExport).where(*building)).scalar()
    if export is None:
        export = SubmissionExport(competition_id=competition.id, requested_by_id=user.id)
        db.session.add(export)
        db.session.commit()
        enqueue(EXPORT_JOB, export.id, timeout=EXPORT_TIMEOUT)
    return export


def latest_ready(competition: Competition) -> SubmissionExport | None:
    """The newest export of the competition that can be downloaded."""
    return db.session.execute(
        db.select(SubmissionExport)
        .where(SubmissionExport.competition_id == competition.id, SubmissionExport.status == ExportStatus.READY)
        .order_by(SubmissionExport.id.desc())
        .limit(1)
    ).scalar()


def export_as_json(export: SubmissionExport) -> dict:
    """An export as the API shows it."""
    return {
        "id": export.id,
        "competition": export.competition.slug,
        "status": export.status.value,
        "file_name": export.file_name,
        "files": export.files,
        "size": export.size,
        "sha256": export.sha256,
        "error": export.error,
        "requested_at": export.requested_at.isoformat(),
        "finished_at": export.finished_at.isoformat() if export.finished_at else None,
        "download_url": f"/api/v1/exports/{export.id}/file" if export.status is ExportStatus.READY else None,
    }
