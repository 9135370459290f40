"""API routes of direct uploads: presigned URLs out, a confirmation in, a submission queued once the file checks out."""

from __future__ import annotations

from flask import jsonify

from app.api import bp
from app.api.auth import api_user, token_required
from app.api.schemas import ConfirmationBody, UploadBody, parse_body
from app.extensions import db
from app.models import Competition, SubmissionStatus
from app.services.competitions import uploads


@bp.post("/competitions/<slug>/uploads")
@token_required
def start_upload(slug: str):
    """Announce a file (name, size); get the presigned URL of each part to PUT it to the store."""
    competition = db.one_or_404(
        db.select(Competition).where(Competition.slug == slug), description=f"No competition {slug!r}."
    )
    body = parse_body(UploadBody)
    upload, parts = uploads.start(
        competition,
        api_user(),
        file_name=body.file_name,
        size=body.size,
        description=body.description or "",
        announcement=body.announcement(),
    )
    return jsonify(uploads.upload_as_json(upload, parts, f"/api/v1/uploads/{upload.id}")), 201


@bp.post("/uploads/<upload_id>/complete")
@token_required
def complete_upload(upload_id: str):
    """Confirm an upload with its size and sha256; 202 once the checked file is queued as a submission."""
    upload = uploads.own(upload_id, api_user())
    body = parse_body(ConfirmationBody)
    submission = uploads.complete(upload, size=body.size, sha256=body.sha256)
    return jsonify(id=submission.id, status=SubmissionStatus.QUEUED.value), 202


@bp.delete("/uploads/<upload_id>")
@token_required
def cancel_upload(upload_id: str):
    """Drop an unconfirmed upload and whatever of it reached the store."""
    uploads.cancel(uploads.own(upload_id, api_user()))
    return "", 204
