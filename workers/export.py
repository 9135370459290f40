"""Bulk export for organisers: every submission file of a competition, and their scores, as one zip.

The zip is built in a job, on a temporary file on the worker's disk (memory stays
flat however large the files), then stored; organisers download it from the
all-submissions page or with `playground export`. The two latest exports of a
competition are kept; older ones are removed when a new one is ready.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile

from app.extensions import db
from app.models import Competition, Submission
from app.models.exports import ExportStatus, SubmissionExport
from app.models.types import utcnow
from app.services.competitions.scores_export import scores_csv
from app.services.storage import CHUNK_SIZE, get_storage
from workers.context import job_context

log = logging.getLogger(__name__)
KEEP = 2
# Already compressed: stored as they are rather than deflated again.
COMPRESSED_SUFFIXES = (".gz", ".parquet", ".zip", ".bz2", ".xz", ".zst")


def member_name(submission: Submission) -> str:
    """Where a submission's file goes in the zip: its id first, so names never collide."""
    return f"submissions/{submission.id}-{submission.user.username}-{submission.file_name}"


def build_export(export_id: int) -> str | None:
    """The job: write the zip of every submission file and the scores, store it; returns the final status."""
    with job_context():
        export = db.session.get(SubmissionExport, export_id)
        if export is None or export.status is not ExportStatus.BUILDING:
            return None
        try:
            _build(export)
        except Exception:
            log.exception("export %s failed", export_id)
            db.session.rollback()
            export.status = ExportStatus.FAILED
            export.error = "The export could not be built on the platform's side; start it again."
            export.finished_at = utcnow()
            db.session.commit()
            return export.status.value
        _prune(export.competition)
        return export.status.value


def _build(export: SubmissionExport) -> None:
    competition = export.competition
    submissions = list(
        db.session.execute(
            db.select(Submission).where(Submission.competition_id == competition.id).order_by(Submission.id)
        ).scalars()
    )
    storage = get_storage()
    key = f"exports/{competition.slug}/{export.id}/{export.file_name}"
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            archive.writestr("scores.csv", scores_csv(submissions))
            for submission in submissions:
                info = zipfile.ZipInfo(member_name(submission), date_time=submission.submitted_at.timetuple()[:6])
                stored = submission.file_name.lower().endswith(COMPRESSED_SUFFIXES)
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                with storage.open(submission.file_key) as source, archive.open(info, "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, CHUNK_SIZE)
        spool.seek(0)
        written = storage.put(key, spool)
    export.storage_key = key
    export.files = len(submissions)
    export.size, export.sha256 = written.size, written.sha256
    export.status = ExportStatus.READY
    export.finished_at = utcnow()
    db.session.commit()


def _prune(competition: Competition) -> None:
    """Remove exports older than the KEEP newest finished ones, files included."""
    finished = db.session.execute(
        db.select(SubmissionExport)
        .where(SubmissionExport.competition_id == competition.id, SubmissionExport.status != ExportStatus.BUILDING)
        .order_by(SubmissionExport.id.desc())
        .offset(KEEP)
    ).scalars()
    storage = get_storage()
    for old in list(finished):
        if old.storage_key:
            storage.delete(old.storage_key)
        db.session.delete(old)
    db.session.commit()
