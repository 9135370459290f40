"""Direct uploads: prediction files that go from the client straight to the S3 store.

The web process hands out presigned URLs (one PUT, or one per part of a
multipart upload) under a key scoped to the submission the file will become,
and never carries the bytes. Each URL is signed for the exact length announced,
so the store refuses a larger body as it arrives. On confirmation it checks the stored object's size
and sha256 against what the client announced, reading it back in bounded
chunks, and only then writes the submission and charges the quota, exactly as
the plain upload route does. A file that fails a check is deleted with its
upload row; an upload nobody confirms expires and the reaper removes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import re
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, func, update

from app.extensions import db
from app.models import Competition, Submission, User
from app.models.types import utcnow
from app.models.uploads import Upload, UploadState
from app.services.competitions import phases, submissions
from app.services.errors import Refused
from app.services.storage import DirectUploadStorage, Storage, StoredFile, accepts_direct_uploads, get_storage

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part but the last
MAX_PART_SIZE = 5 * 1024**3  # and its largest
MAX_PARTS = 1000  # S3 allows 10,000; fewer, larger parts keep the list of URLs short
SHA256 = re.compile(r"^[0-9a-f]{64}$")
CRC32 = re.compile(r"^[A-Za-z0-9+/]{6}==$")  # four bytes, big-endian, in base64, as S3 writes them
# A PUT that began just before its URL expired may still be running; its upload is kept this much longer.
EXPIRY_GRACE = timedelta(minutes=10)
VERIFY_CHUNK = 4 * 1024 * 1024  # what is in memory at once while a stored file is checked


@dataclasses.dataclass(frozen=True)
class Part:
    """One byte range of the file, the URL to PUT it to, and the headers that PUT must carry."""

    number: int
    offset: int
    size: int
    url: str
    headers: dict[str, str]

    def as_json(self) -> dict:
        """The part as the API hands it out."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Announcement:
    """What a client may say of its file before sending it: its sha256, and its parts with their CRC32s.

    Checksums known up front are signed into the presigned URLs, so the store itself
    refuses a part (or a whole file) that arrives damaged, and the client sends again
    only that part. They change nothing of the server's own check on confirmation.
    """

    sha256: str | None = None
    parts: tuple[tuple[int, str], ...] = ()  # (size, crc32 in base64) of each part, in order

    @classmethod
    def from_json(cls, body: dict) -> Announcement | None:
        """The optional "sha256" and "parts" of an announcement, or None when they are not of the documented shape."""
        sha256, parts = body.get("sha256"), body.get("parts") or []
        if sha256 is not None and not isinstance(sha256, str):
            return None
        if not isinstance(parts, list) or not all(
            isinstance(part, dict) and whole_number(part.get("size")) is not None and isinstance(part.get("crc32"), str)
            for part in parts
        ):
            return None
        return cls(sha256=sha256.lower() if sha256 else None, parts=tuple((p["size"], p["crc32"]) for p in parts))


def whole_number(value) -> int | None:
    """The value when it is a JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def plan_parts(size: int, part_size: int) -> list[tuple[int, int]]:
    """(offset, length) of each part of a file of size bytes: parts of part_size, fewer than MAX_PARTS."""
    part_size = max(part_size, MIN_PART_SIZE, math.ceil(size / MAX_PARTS))
    return [(offset, min(part_size, size - offset)) for offset in range(0, size, part_size)]


def check_announcement(size: int, announcement: Announcement) -> None:
    """Refuse checksums or parts that cannot describe a file of size bytes, saying what is wrong."""
    if announcement.sha256 is not None and not SHA256.match(announcement.sha256):
        raise Refused("sha256 must be the file's SHA-256 as 64 hexadecimal digits.")
    parts = announcement.parts
    if not parts:
        return
    if len(parts) > MAX_PARTS:
        raise Refused(f"{len(parts)} parts announced; at most {MAX_PARTS}: make them larger.")
    total = sum(part_size for part_size, _ in parts)
    if total != size:
        raise Refused(f"The parts announced add up to {total} bytes, not the {size} of the file.")
    for number, (part_size, crc32) in enumerate(parts, start=1):
        last = number == len(parts)
        if part_size > MAX_PART_SIZE or (part_size < MIN_PART_SIZE and not last) or part_size <= 0:
            raise Refused(
                f"Part {number} has {part_size} bytes: every part but the last needs at least {MIN_PART_SIZE} "
                f"and none may have more than {MAX_PART_SIZE}."
            )
        if not CRC32.match(crc32):
            raise Refused(f"Part {number}: crc32 must be the part's CRC32 as 4 bytes in base64.")


def start(
    competition: Competition,
    user: User,
    *,
    file_name: str,
    size: int,
    description: str = "",
    announcement: Announcement = Announcement(),
) -> tuple[Upload, list[Part]]:
    """Open a direct upload: check the participant may submit, then hand out presigned URLs.

    Parts follow the announcement when it has them (checksummed), else the server's
    own plan. Returns (upload, parts). Refused with the code direct_uploads_unavailable on the
    filesystem backend, and when the file or the participant is refused.
    """
    storage = get_storage()
    if not accepts_direct_uploads(storage):
        raise Refused(
            "This platform keeps files on its own disk and takes no direct uploads: POST the file as the multipart "
            f"form field 'file' to /api/v1/competitions/{competition.slug}/submissions.",
            409,
            code="direct_uploads_unavailable",
        )
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if size > limit:
        raise Refused(f"The file is larger than {limit // (1024 * 1024)} MB, the largest accepted.", 413)
    if size <= 0:
        raise Refused("The file is empty.")
    check_announcement(size, announcement)
    now = utcnow()
    participation, _ = submissions.check_can_submit(competition, user, now)
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
        parts = _presign(storage, upload, expiry, announcement)
    except Exception as error:
        current_app.logger.exception("could not open direct upload %s", upload.id)
        _forget(upload.id)
        raise Refused("The file store could not be reached; try again in a moment.", 503) from error
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
        raise Refused(
            f"You have {pending[0]} unconfirmed uploads: confirm or cancel one (DELETE /api/v1/uploads/ID), "
            "or wait until it expires.",
            429,
            retry_after=retry_after,
        )


def _presign(storage: DirectUploadStorage, upload: Upload, expiry: int, announcement: Announcement) -> list[Part]:
    if announcement.parts:
        sizes = [part_size for part_size, _ in announcement.parts]
        checksums: list[str | None] = [crc32 for _, crc32 in announcement.parts]
    else:
        part_size = current_app.config["UPLOAD_PART_SIZE"]
        single = upload.size <= max(part_size, current_app.config["UPLOAD_MULTIPART_THRESHOLD"])
        sizes = [upload.size] if single else [length for _, length in plan_parts(upload.size, part_size)]
        checksums = [None] * len(sizes)
    if len(sizes) == 1:
        put = storage.presigned_put(
            upload.storage_key, size=upload.size, expires_in=expiry, sha256=announcement.sha256, crc32=checksums[0]
        )
        return [Part(1, 0, upload.size, put.url, put.headers)]
    upload.multipart_id = storage.start_multipart(upload.storage_key, crc32_parts=bool(announcement.parts))
    db.session.commit()
    parts = []
    offsets = itertools.accumulate(sizes[:-1], initial=0)
    for number, (offset, length, crc32) in enumerate(zip(offsets, sizes, checksums, strict=True), start=1):
        put = storage.presigned_part(
            upload.storage_key, upload.multipart_id, number, size=length, expires_in=expiry, crc32=crc32
        )
        parts.append(Part(number, offset, length, put.url, put.headers))
    return parts


def upload_as_json(upload: Upload, parts: list[Part], url: str) -> dict:
    """An opened upload as the API and the submit page hand it out; url is where it is confirmed or cancelled."""
    return {
        "id": upload.id,
        "size": upload.size,
        "expires_at": upload.expires_at.isoformat(),
        "parts": [part.as_json() for part in parts],
        "complete_url": f"{url}/complete",
        "cancel_url": url,
    }


def own(upload_id: str, user: User) -> Upload:
    """The user's upload with that id, still open; else Refused(404): someone else's does not exist."""
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.user_id != user.id or utcnow() > upload.expires_at + EXPIRY_GRACE:
        raise Refused(f"No open upload {upload_id!r}: it is unknown, someone else's, or expired.", 404)
    return upload


def complete(upload: Upload, *, size: int, sha256: str | None) -> Submission:
    """Check the stored file against the confirmed size and sha256, then queue it as a submission.

    Without a sha256 (a browser, which cannot hash a large file as it reads it) the file
    is checked for its size and the digest the server reads is recorded. A mismatch (or
    a file that never arrived) deletes the file and the upload and raises
    Refused(400); a store outage raises Refused(503) and leaves the
    upload as it was, to be confirmed again.
    """
    if sha256 is not None:
        sha256 = sha256.lower()
        if not SHA256.match(sha256):
            raise Refused("sha256 must be the file's SHA-256 as 64 hexadecimal digits.")
    _claim(upload)
    storage = get_storage()
    try:
        stored = _verify(storage, upload, size, sha256)
    except Refused:
        discard(upload)
        raise
    except Exception as error:
        current_app.logger.exception("checking upload %s failed on the platform's side", upload.id)
        _release(upload)
        raise Refused(
            "The file store could not be reached to check the upload; confirm it again in a moment.", 503
        ) from error
    upload_id, competition, user = upload.id, upload.competition, upload.user
    name, description = upload.file_name, upload.description
    # A file begun in one phase is refused, never moved, if another phase opened while it was uploading.
    begun_in = phases.current_phase(competition, upload.created_at)
    db.session.delete(upload)  # committed together with the submission, or rolled back with its refusal
    try:
        return submissions.submit_stored(
            competition,
            user,
            stored,
            file_name=name,
            description=description,
            phase=begun_in.name if begun_in is not None else None,
        )
    except Refused:
        _forget(upload_id)
        raise


def _claim(upload: Upload) -> None:
    """Move the upload to confirming, so that two confirmations cannot both turn it into a submission."""
    # An UPDATE gives a CursorResult, which counts the rows it changed.
    claimed = cast(
        CursorResult,
        db.session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.state == UploadState.PENDING)
            .values(state=UploadState.CONFIRMING, confirming_since=utcnow())
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    db.session.commit()
    if not claimed:
        raise Refused("This upload is already being confirmed.", 409)
    db.session.refresh(upload)


def _release(upload: Upload) -> None:
    db.session.rollback()
    upload.state, upload.confirming_since = UploadState.PENDING, None
    db.session.commit()


def _verify(storage: Storage, upload: Upload, size: int, sha256: str | None) -> StoredFile:
    if size != upload.size:
        raise Refused(f"The confirmation says {size} bytes, but the upload was announced as {upload.size}.")
    if upload.multipart_id and accepts_direct_uploads(storage):
        try:
            storage.complete_multipart(upload.storage_key, upload.multipart_id)
        except FileNotFoundError as missing:
            raise Refused(f"The upload is incomplete: {missing}.") from None
        upload.multipart_id = None
        db.session.commit()
    try:
        stored_size = storage.size(upload.storage_key)
    except FileNotFoundError:
        raise Refused("Nothing was uploaded: PUT the file to the URL first, then confirm.") from None
    if stored_size != upload.size:
        raise Refused(f"The stored file has {stored_size} bytes, not the {upload.size} announced.")
    digest = stored_sha256(storage, upload.storage_key)
    if sha256 is not None and digest != sha256:
        raise Refused(f"The stored file's sha256 is {digest}, not the {sha256} confirmed.")
    return StoredFile(upload.storage_key, stored_size, digest)


def stored_sha256(storage: Storage, key: str) -> str:
    """SHA-256 of a stored file, read in bounded chunks: memory stays flat whatever the file's size."""
    digest = hashlib.sha256()
    with storage.open(key) as handle:
        while chunk := handle.read(VERIFY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cancel(upload: Upload) -> None:
    """Drop an unconfirmed upload at its owner's request; one being confirmed is refused (409)."""
    if upload.state is UploadState.CONFIRMING:
        raise Refused("This upload is being confirmed; it can no longer be cancelled.", 409)
    discard(upload)


def discard(upload: Upload) -> None:
    """Remove an upload and whatever of it reached the store."""
    db.session.rollback()
    upload_id, key, multipart_id = upload.id, upload.storage_key, upload.multipart_id
    storage = get_storage()
    # Only a store that takes direct uploads hands out multipart ids.
    if multipart_id and accepts_direct_uploads(storage):
        storage.abort_multipart(key, multipart_id)
    storage.delete(key)
    _forget(upload_id)


def _forget(upload_id: str) -> None:
    db.session.rollback()
    db.session.execute(db.delete(Upload).where(Upload.id == upload_id))
    db.session.commit()
