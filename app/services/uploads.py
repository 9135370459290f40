"""Direct uploads: prediction files that go from the client straight to the S3 store.

The web process hands out presigned URLs (one PUT, or one per part of a
multipart upload) under a key scoped to the submission the file will become,
and never carries the bytes. On confirmation it checks the stored object's size
and sha256 against what the client announced, reading it back in bounded
chunks, and only then writes the submission and charges the quota, exactly as
the plain upload route does. A file that fails a check is deleted with its
upload row; an upload nobody confirms expires and the reaper removes it.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, update

from app.extensions import db
from app.models import Competition, Submission, User
from app.models.types import utcnow
from app.models.uploads import Upload, UploadState
from app.services import submissions
from app.services.storage import StoredFile, accepts_direct_uploads, get_storage
from app.services.submissions import SubmissionRefused

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part but the last
MAX_PARTS = 1000  # S3 allows 10,000; fewer, larger parts keep the list of URLs short
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A PUT that began just before its URL expired may still be running; its upload is kept this much longer.
EXPIRY_GRACE = timedelta(minutes=10)
VERIFY_CHUNK = 4 * 1024 * 1024  # what is in memory at once while a stored file is checked


class DirectUploadsUnavailable(Exception):
    """The storage backend takes no direct uploads (the filesystem): post the file to the API instead."""


@dataclass(frozen=True)
class Part:
    """One byte range of the file and the URL to PUT it to."""

    number: int
    offset: int
    size: int
    url: str

    def as_dict(self) -> dict:
        """The part as the API hands it out."""
        return {"number": self.number, "offset": self.offset, "size": self.size, "url": self.url}


def plan_parts(size: int, part_size: int) -> list[tuple[int, int]]:
    """(offset, length) of each part of a file of size bytes: parts of part_size, fewer than MAX_PARTS."""
    part_size = max(part_size, MIN_PART_SIZE, math.ceil(size / MAX_PARTS))
    return [(offset, min(part_size, size - offset)) for offset in range(0, size, part_size)]


def start(
    competition: Competition, user: User, *, file_name: str, size: int, description: str = ""
) -> tuple[Upload, list[Part]]:
    """Open a direct upload: check the participant may submit, then hand out presigned URLs.

    Returns (upload, parts). Raises DirectUploadsUnavailable on the filesystem backend
    and SubmissionRefused when the file or the participant is refused.
    """
    storage = get_storage()
    if not accepts_direct_uploads(storage):
        raise DirectUploadsUnavailable
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if size > limit:
        raise SubmissionRefused(f"The file is larger than {limit // (1024 * 1024)} MB, the largest accepted.", 413)
    if size <= 0:
        raise SubmissionRefused("The file is empty.")
    now = utcnow()
    participation = submissions.check_can_submit(competition, user, now)
    _check_pending(participation.id, now)
    key, unique, name = submissions.new_file_key(competition, file_name)
    expiry = current_app.config["UPLOAD_EXPIRY"]
    upload = Upload(
        id=unique,
        competition_id=competition.id,
        participation_id=participation.id,
        user_id=user.id,
        file_name=name,
        description=(description or "").strip()[:2000],
        size=size,
        storage_key=key,
        created_at=now,
        expires_at=now + timedelta(seconds=expiry),
    )
    # The row exists before anything in the store does, so the reaper can always find what to clean.
    db.session.add(upload)
    db.session.commit()
    try:
        parts = _presign(storage, upload, expiry)
    except Exception as error:
        current_app.logger.exception("could not open direct upload %s", upload.id)
        _forget(upload.id)
        raise SubmissionRefused("The file store could not be reached; try again in a moment.", 503) from error
    return upload, parts


def _check_pending(participation_id: int, now: datetime) -> None:
    pending = db.session.execute(
        db.select(func.count(Upload.id), func.min(Upload.expires_at)).where(
            Upload.participation_id == participation_id, Upload.expires_at > now
        )
    ).one()
    allowed = current_app.config["MAX_PENDING_UPLOADS"]
    if pending[0] >= allowed:
        retry_after = max(1, math.ceil((pending[1] - now).total_seconds()))
        raise SubmissionRefused(
            f"You have {pending[0]} unconfirmed uploads: confirm or cancel one (DELETE /api/v1/uploads/ID), "
            "or wait until it expires.",
            429,
            retry_after,
        )


def _presign(storage, upload: Upload, expiry: int) -> list[Part]:
    part_size = current_app.config["UPLOAD_PART_SIZE"]
    if upload.size <= max(part_size, current_app.config["UPLOAD_MULTIPART_THRESHOLD"]):
        return [Part(1, 0, upload.size, storage.presigned_put(upload.storage_key, expires_in=expiry))]
    upload.multipart_id = storage.start_multipart(upload.storage_key)
    db.session.commit()
    return [
        Part(
            number,
            offset,
            length,
            storage.presigned_part(upload.storage_key, upload.multipart_id, number, expires_in=expiry),
        )
        for number, (offset, length) in enumerate(plan_parts(upload.size, part_size), start=1)
    ]


def get_own(upload_id: str, user: User) -> Upload | None:
    """The user's upload with that id, if it is still open; someone else's does not exist for them."""
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.user_id != user.id or utcnow() > upload.expires_at + EXPIRY_GRACE:
        return None
    return upload


def complete(upload: Upload, *, size: int, sha256: str) -> Submission:
    """Check the stored file against the confirmed size and sha256, then queue it as a submission.

    A mismatch (or a file that never arrived) deletes the file and the upload and raises
    SubmissionRefused(400); a store outage raises SubmissionRefused(503) and leaves the
    upload as it was, to be confirmed again.
    """
    sha256 = (sha256 or "").lower()
    if not SHA256.match(sha256):
        raise SubmissionRefused("sha256 must be the file's SHA-256 as 64 hexadecimal digits.")
    _claim(upload)
    storage = get_storage()
    try:
        stored = _verify(storage, upload, size, sha256)
    except SubmissionRefused:
        discard(upload)
        raise
    except Exception as error:
        current_app.logger.exception("checking upload %s failed on the platform's side", upload.id)
        _release(upload)
        raise SubmissionRefused(
            "The file store could not be reached to check the upload; confirm it again in a moment.", 503
        ) from error
    upload_id, competition, user = upload.id, upload.competition, upload.user
    name, description = upload.file_name, upload.description
    db.session.delete(upload)  # committed together with the submission, or rolled back with its refusal
    try:
        return submissions.submit_stored(competition, user, stored, file_name=name, description=description)
    except SubmissionRefused:
        _forget(upload_id)
        raise


def _claim(upload: Upload) -> None:
    """Move the upload to confirming, so that two confirmations cannot both turn it into a submission."""
    claimed = db.session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.state == UploadState.PENDING)
        .values(state=UploadState.CONFIRMING, confirming_since=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        raise SubmissionRefused("This upload is already being confirmed.", 409)
    db.session.refresh(upload)


def _release(upload: Upload) -> None:
    db.session.rollback()
    upload.state, upload.confirming_since = UploadState.PENDING, None
    db.session.commit()


def _verify(storage, upload: Upload, size: int, sha256: str) -> StoredFile:
    if size != upload.size:
        raise SubmissionRefused(f"The confirmation says {size} bytes, but the upload was announced as {upload.size}.")
    if upload.multipart_id:
        try:
            storage.complete_multipart(upload.storage_key, upload.multipart_id)
        except FileNotFoundError as missing:
            raise SubmissionRefused(f"The upload is incomplete: {missing}.") from None
        upload.multipart_id = None
        db.session.commit()
    try:
        stored_size = storage.size(upload.storage_key)
    except FileNotFoundError:
        raise SubmissionRefused("Nothing was uploaded: PUT the file to the URL first, then confirm.") from None
    if stored_size != upload.size:
        raise SubmissionRefused(f"The stored file has {stored_size} bytes, not the {upload.size} announced.")
    digest = stored_sha256(storage, upload.storage_key)
    if digest != sha256:
        raise SubmissionRefused(f"The stored file's sha256 is {digest}, not the {sha256} confirmed.")
    return StoredFile(upload.storage_key, stored_size, digest)


def stored_sha256(storage, key: str) -> str:
    """SHA-256 of a stored file, read in bounded chunks: memory stays flat whatever the file's size."""
    digest = hashlib.sha256()
    with storage.open(key) as handle:
        while chunk := handle.read(VERIFY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def discard(upload: Upload) -> None:
    """Remove an upload and whatever of it reached the store."""
    db.session.rollback()
    upload_id, key, multipart_id = upload.id, upload.storage_key, upload.multipart_id
    storage = get_storage()
    if multipart_id:
        storage.abort_multipart(key, multipart_id)
    storage.delete(key)
    _forget(upload_id)


def _forget(upload_id: str) -> None:
    db.session.rollback()
    db.session.execute(db.delete(Upload).where(Upload.id == upload_id))
    db.session.commit()
