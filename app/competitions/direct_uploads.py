"""The submit page's direct uploads: the browser sends the file straight to the S3 store, as the client does.

The same service as the API's upload routes, for a logged-in session (CSRF-checked like
every form post). The browser announces each part's CRC32, which the store checks as the
part arrives; it does not hash the whole file, so on confirmation the server checks the
size and records the sha256 it reads itself. On the filesystem backend the start answers
409 and the page posts the form as before. Refusals answer as the API's JSON errors.
"""

from __future__ import annotations

from flask import flash, jsonify, request, url_for
from flask_login import current_user, login_required

from app.competitions import bp
from app.competitions.routes import get_competition
from app.errors import api_error, json_refusals
from app.services.competitions import uploads

ANNOUNCE = (
    'Announce the file as JSON: {"file_name": "...", "size": <bytes>, "description": "...", '
    '"parts": [{"size": <bytes>, "crc32": "<base64>"}, ...]}.'
)


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/competitions/<slug>/uploads")
@login_required
@json_refusals
def start_upload(slug: str):
    """Open a direct upload for the submit page; the presigned URLs come back as JSON."""
    competition = get_competition(slug)
    body = _body()
    announcement = uploads.Announcement.from_json(body)
    description = body.get("description") or ""
    if (
        not isinstance(body.get("file_name"), str)
        or uploads.whole_number(body.get("size")) is None
        or not isinstance(description, str)
        or announcement is None
    ):
        return api_error(400, ANNOUNCE)
    upload, parts = uploads.start(
        competition,
        current_user,
        file_name=body["file_name"],
        size=body["size"],
        description=description,
        announcement=announcement,
    )
    return jsonify(uploads.upload_as_json(upload, parts, url_for(".cancel_upload", upload_id=upload.id))), 201


@bp.post("/uploads/<upload_id>/complete")
@login_required
@json_refusals
def complete_upload(upload_id: str):
    """Check the uploaded file and queue it; the page then goes where the answer's `redirect` says."""
    size = uploads.whole_number(_body().get("size"))
    upload = uploads.own(upload_id, current_user)
    if size is None:
        return api_error(400, 'Confirm the upload as JSON: {"size": <bytes>}.')
    slug = upload.competition.slug
    submission = uploads.complete(upload, size=size, sha256=None)
    flash(f"Submission {submission.id} is queued for scoring.", "success")
    return jsonify(
        id=submission.id, status=submission.status.value, redirect=url_for(".my_submissions", slug=slug)
    ), 202


@bp.delete("/uploads/<upload_id>")
@login_required
@json_refusals
def cancel_upload(upload_id: str):
    """Drop an upload the page could not finish, so that it does not hold one of the pending places."""
    uploads.cancel(uploads.own(upload_id, current_user))
    return "", 204
