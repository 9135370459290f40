"""Direct uploads to an S3 endpoint over HTTP: presigned PUTs and parts, checks on confirmation, expiry."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import os
import zlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from app.extensions import db
from app.models import Competition, LabellingTask, Reco, Role, Submission, SubmissionStatus, User
from app.models.types import utcnow
from app.models.uploads import Upload, UploadState
from app.services.competitions.bundles import import_bundle
from app.services.storage import get_storage
from tests.conftest import AuthActions, make_app
from tests.helpers import PASSWORD, bearer, make_token, make_user, predictions_csv, write_bundle
from workers.uploads import expire_uploads

pytestmark = [pytest.mark.s3, pytest.mark.databases("sqlite", "postgresql")]
SLUG = "test-comp"
MB = 1024 * 1024


@pytest.fixture
def s3(database_url, tmp_path, s3_bucket):
    """The embedded app storing files in a bucket of its own, a competition, and two joined researchers."""
    bucket, endpoint = s3_bucket
    app = make_app(
        database_url,
        tmp_path,
        STORAGE_URL=f"s3://{bucket}/pg",
        S3_ENDPOINT_URL=endpoint,
        UPLOAD_PART_SIZE=5 * MB,
        UPLOAD_MULTIPART_THRESHOLD=5 * MB,
    )
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_bundle(folder)
        tokens = {name: make_token(make_user(name)) for name in ("rita", "ravi")}
    client = app.test_client()
    for token in tokens.values():
        client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
    yield {
        "app": app,
        "client": client,
        "tokens": tokens,
        "content": predictions_csv(ids, x),
        "s3": boto3.client("s3", endpoint_url=endpoint),
        "bucket": bucket,
    }
    app.extensions["job_queue"].join()  # scoring of what a test confirmed ends before its database goes
    with app.app_context():
        db.engine.dispose()


def start(s3, size: int, token: str | None = None, name: str = "p.csv", **checksums):
    return s3["client"].post(
        f"/api/v1/competitions/{SLUG}/uploads",
        headers=bearer(token or s3["tokens"]["rita"]),
        json={"file_name": name, "size": size, "description": "direct", **checksums},
    )


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def announced_parts(content: bytes, sizes: list[int]) -> list[dict]:
    offsets = itertools.accumulate(sizes[:-1], initial=0)
    return [
        {"size": size, "crc32": crc32(content[offset : offset + size])}
        for offset, size in zip(offsets, sizes, strict=True)
    ]


def signed_headers(url: str) -> set[str]:
    return set(parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";"))


def put(parts: list[dict], content: bytes, skip: tuple[int, ...] = ()) -> None:
    for part in parts:
        if part["number"] in skip:
            continue
        piece = content[part["offset"] : part["offset"] + part["size"]]
        response = requests.put(part["url"], data=piece, headers=part["headers"], timeout=60)
        assert response.status_code == 200


def confirm(s3, upload_id: str, size: int, sha256: str, token: str | None = None):
    return s3["client"].post(
        f"/api/v1/uploads/{upload_id}/complete",
        headers=bearer(token or s3["tokens"]["rita"]),
        json={"size": size, "sha256": sha256},
    )


def leftovers(s3) -> dict:
    """What the platform holds beyond the competition's own files: submissions, uploads, objects, parts."""
    with s3["app"].app_context():
        submissions = db.session.execute(db.select(Submission)).scalars().all()
        uploads = db.session.execute(db.select(Upload)).scalars().all()
    listed = s3["s3"].list_objects_v2(Bucket=s3["bucket"], Prefix="pg/submissions/")
    multipart = s3["s3"].list_multipart_uploads(Bucket=s3["bucket"])
    return {
        "submissions": len(submissions),
        "uploads": len(uploads),
        "objects": listed.get("KeyCount", 0),
        "multipart": len(multipart.get("Uploads", [])),
    }


NOTHING = {"submissions": 0, "uploads": 0, "objects": 0, "multipart": 0}


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_single_put_is_checked_then_queued_and_scored(s3):
    content = s3["content"]
    started = start(s3, len(content))
    assert started.status_code == 201, started.get_json()
    upload = started.get_json()
    assert len(upload["parts"]) == 1 and upload["id"] in upload["parts"][0]["url"]
    assert upload["complete_url"] == f"/api/v1/uploads/{upload['id']}/complete"
    assert upload["cancel_url"] == f"/api/v1/uploads/{upload['id']}"
    put(upload["parts"], content)
    accepted = confirm(s3, upload["id"], len(content), sha(content))
    assert accepted.status_code == 202, accepted.get_json()
    s3["app"].extensions["job_queue"].join()
    with s3["app"].app_context():
        submission = db.session.get(Submission, accepted.get_json()["id"])
        assert submission.status is SubmissionStatus.SCORED
        assert submission.file_sha256 == sha(content) and submission.file_size == len(content)
        assert submission.file_key.endswith(f"/{upload['id']}/p.csv") and submission.description == "direct"
        assert get_storage().exists(submission.file_key)
        assert db.session.execute(db.select(Upload)).first() is None
    assert confirm(s3, upload["id"], len(content), sha(content)).status_code == 404


def test_large_file_goes_up_in_parts_the_store_assembles(s3):
    content = os.urandom(12 * MB)
    upload = start(s3, len(content)).get_json()
    assert [p["size"] for p in upload["parts"]] == [5 * MB, 5 * MB, 2 * MB]
    put(upload["parts"], content)
    accepted = confirm(s3, upload["id"], len(content), sha(content))
    assert accepted.status_code == 202
    with s3["app"].app_context():
        key = db.session.get(Submission, accepted.get_json()["id"]).file_key
        assert get_storage().read_range(key, 5 * MB - 2, 4) == content[5 * MB - 2 : 5 * MB + 2]
    assert leftovers(s3)["multipart"] == 0


def test_announced_parts_carry_their_crc32_for_the_store_to_check(s3):
    content = os.urandom(13 * MB)
    sizes = [6 * MB, 6 * MB, 1 * MB]  # the client's plan, not the server's 5 MB parts
    started = start(s3, len(content), parts=announced_parts(content, sizes), sha256=sha(content))
    assert started.status_code == 201, started.get_json()
    parts = started.get_json()["parts"]
    assert [(p["offset"], p["size"]) for p in parts] == [(0, 6 * MB), (6 * MB, 6 * MB), (12 * MB, MB)]
    for part in parts:
        piece = content[part["offset"] : part["offset"] + part["size"]]
        assert part["headers"] == {"x-amz-checksum-crc32": crc32(piece)}
        # The PUT cannot leave the checksum out or change it, nor send more bytes than announced.
        assert {"x-amz-checksum-crc32", "content-length"} <= signed_headers(part["url"])
    (listed,) = s3["s3"].list_multipart_uploads(Bucket=s3["bucket"])["Uploads"]
    assert listed["ChecksumAlgorithm"] == "CRC32"
    put(parts, content)
    accepted = confirm(s3, started.get_json()["id"], len(content), sha(content))
    assert accepted.status_code == 202, accepted.get_json()
    with s3["app"].app_context():
        key = db.session.get(Submission, accepted.get_json()["id"]).file_key
        assert get_storage().read_range(key, 6 * MB - 1, 2) == content[6 * MB - 1 : 6 * MB + 1]
    assert leftovers(s3)["multipart"] == 0


def test_a_single_put_announced_with_its_sha256_must_carry_it(s3):
    content = s3["content"]
    upload = start(s3, len(content), sha256=sha(content), parts=announced_parts(content, [len(content)])).get_json()
    (part,) = upload["parts"]
    assert part["headers"] == {"x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(content).digest()).decode()}
    assert "x-amz-checksum-sha256" in signed_headers(part["url"])
    put(upload["parts"], content)
    assert confirm(s3, upload["id"], len(content), sha(content)).status_code == 202


@pytest.mark.parametrize(
    ("checksums", "message"),
    [
        ({"sha256": "abc"}, "64"),
        ({"sha256": 12}, "optional"),
        ({"parts": "all"}, "optional"),
        ({"parts": [{"size": 13 * MB}]}, "optional"),
        ({"parts": [{"size": 12 * MB, "crc32": "AAAAAA=="}]}, "add up to"),
        ({"parts": [{"size": MB, "crc32": "AAAAAA=="}, {"size": 12 * MB, "crc32": "AAAAAA=="}]}, "at least"),
        ({"parts": [{"size": 13 * MB, "crc32": "not a crc"}]}, "CRC32"),
    ],
)
def test_malformed_checksums_are_refused_before_any_url_is_given(s3, checksums, message):
    refused = start(s3, 13 * MB, **checksums)
    assert refused.status_code == 400
    assert message in refused.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING


def test_tampered_content_is_refused_and_leaves_nothing(s3):
    content = s3["content"]
    upload = start(s3, len(content)).get_json()
    put(upload["parts"], content.replace(b"ls", b"LS", 1))  # same size, other bytes
    refused = confirm(s3, upload["id"], len(content), sha(content))
    assert refused.status_code == 400
    assert "sha256" in refused.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING


def test_a_body_larger_than_announced_is_refused_by_the_store(s3):
    """The URL is signed for the announced length: the store refuses a larger body, not the confirmation later."""
    content = s3["content"]
    upload = start(s3, len(content)).get_json()
    (part,) = upload["parts"]
    assert "content-length" in signed_headers(part["url"])
    larger = requests.put(part["url"], data=content + b"ls99999,0.5\n" * 1000, timeout=60)
    assert larger.status_code == 403
    refused = confirm(s3, upload["id"], len(content), sha(content))
    assert refused.status_code == 400 and "Nothing was uploaded" in refused.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING


def test_a_part_larger_than_planned_is_refused_by_the_store(s3):
    content = os.urandom(12 * MB)
    upload = start(s3, len(content)).get_json()
    first = upload["parts"][0]
    assert all("content-length" in signed_headers(part["url"]) for part in upload["parts"])
    larger = requests.put(first["url"], data=content[: first["size"] + MB], headers=first["headers"], timeout=60)
    assert larger.status_code == 403
    put(upload["parts"], content)  # the planned sizes still go through
    assert confirm(s3, upload["id"], len(content), sha(content)).status_code == 202


def test_confirmation_of_another_size_is_refused(s3):
    content = s3["content"]
    upload = start(s3, len(content)).get_json()
    put(upload["parts"], content)
    refused = confirm(s3, upload["id"], len(content) + 1, sha(content))
    assert refused.status_code == 400 and "announced" in refused.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING


def test_multipart_upload_missing_a_part_is_refused_and_leaves_nothing(s3):
    content = os.urandom(12 * MB)
    upload = start(s3, len(content)).get_json()
    put(upload["parts"], content, skip=(2,))
    refused = confirm(s3, upload["id"], len(content), sha(content))
    assert refused.status_code == 400
    assert leftovers(s3) == NOTHING


def test_confirming_before_uploading_is_refused(s3):
    upload = start(s3, 100).get_json()
    refused = confirm(s3, upload["id"], 100, "0" * 64)
    assert refused.status_code == 400 and "Nothing was uploaded" in refused.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING


def test_someone_elses_upload_does_not_exist(s3):
    content = s3["content"]
    upload = start(s3, len(content)).get_json()
    put(upload["parts"], content)
    ravi = s3["tokens"]["ravi"]
    assert confirm(s3, upload["id"], len(content), sha(content), token=ravi).status_code == 404
    assert s3["client"].delete(f"/api/v1/uploads/{upload['id']}", headers=bearer(ravi)).status_code == 404
    assert confirm(s3, upload["id"], len(content), sha(content)).status_code == 202


def test_cancelled_upload_leaves_nothing(s3):
    content = os.urandom(12 * MB)
    upload = start(s3, len(content)).get_json()
    put(upload["parts"], content, skip=(3,))
    response = s3["client"].delete(f"/api/v1/uploads/{upload['id']}", headers=bearer(s3["tokens"]["rita"]))
    assert response.status_code == 204
    assert leftovers(s3) == NOTHING


@pytest.mark.parametrize("size", [100, 12 * MB], ids=["single", "multipart"])
def test_unconfirmed_uploads_expire_with_their_files(s3, size):
    content = os.urandom(size)
    upload = start(s3, size).get_json()
    put(upload["parts"], content, skip=(2,))
    with s3["app"].app_context():
        assert expire_uploads() == []  # not yet
        later = utcnow() + timedelta(seconds=s3["app"].config["UPLOAD_EXPIRY"]) + timedelta(minutes=11)
        assert expire_uploads(later) == [upload["id"]]
    assert leftovers(s3) == NOTHING
    assert confirm(s3, upload["id"], size, sha(content)).status_code == 404


def test_unconfirmed_uploads_per_participant_are_limited(s3):
    for _ in range(s3["app"].config["MAX_PENDING_UPLOADS"]):
        assert start(s3, 100).status_code == 201
    refused = start(s3, 100)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 3000
    assert "unconfirmed uploads" in refused.get_json()["error"]["message"]


def test_quota_is_charged_at_confirmation_and_the_refused_file_removed(s3):
    with s3["app"].app_context():
        db.session.execute(db.select(Competition)).scalar_one().daily_limit = 1
        db.session.commit()
    content = s3["content"]
    first, second = start(s3, len(content)).get_json(), start(s3, len(content)).get_json()
    for upload in (first, second):
        put(upload["parts"], content)
    assert confirm(s3, first["id"], len(content), sha(content)).status_code == 202
    refused = confirm(s3, second["id"], len(content), sha(content))
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert leftovers(s3) == {"submissions": 1, "uploads": 0, "objects": 1, "multipart": 0}
    assert start(s3, len(content)).status_code == 429  # refused before anything is uploaded


def test_a_used_up_quota_answers_429_with_retry_after_on_every_api_path(s3):
    """Whether the file comes with the request, is announced, or is confirmed, the refusal says when to come back."""
    with s3["app"].app_context():
        db.session.execute(db.select(Competition)).scalar_one().daily_limit = 1
        db.session.commit()
    content, token = s3["content"], s3["tokens"]["rita"]
    pending = start(s3, len(content)).get_json()  # announced while the day's slot is still free
    put(pending["parts"], content)

    def post_file():
        form = {"file": (io.BytesIO(content), "p.csv")}
        return s3["client"].post(f"/api/v1/competitions/{SLUG}/submissions", headers=bearer(token), data=form)

    assert post_file().status_code == 202
    refusals = {
        "posted": post_file(),
        "announced": start(s3, len(content)),
        "confirmed": confirm(s3, pending["id"], len(content), sha(content)),
    }
    for path, refused in refusals.items():
        assert refused.status_code == 429, path
        assert "submissions of today" in refused.get_json()["error"]["message"], path
        assert 0 < int(refused.headers["Retry-After"]) <= 86400, path


def test_announcement_is_checked_before_any_url_is_given(s3):
    too_big = s3["app"].config["MAX_CONTENT_LENGTH"] + 1
    assert start(s3, too_big).status_code == 413
    assert start(s3, 0).status_code == 400
    with s3["app"].app_context():
        outsider = make_token(make_user("otto"))
    assert start(s3, 100, token=outsider).status_code == 403
    bad = s3["client"].post(
        f"/api/v1/competitions/{SLUG}/uploads", headers=bearer(s3["tokens"]["rita"]), json={"size": "big"}
    )
    assert bad.status_code == 400
    assert leftovers(s3) == NOTHING


def test_reaper_leaves_a_running_confirmation_alone_and_clears_a_crashed_one(s3):
    content = s3["content"]
    upload = start(s3, len(content)).get_json()
    put(upload["parts"], content)
    app = s3["app"]
    after_expiry = utcnow() + timedelta(seconds=app.config["UPLOAD_EXPIRY"]) + timedelta(minutes=11)
    with app.app_context():
        row = db.session.get(Upload, upload["id"])
        row.state, row.confirming_since = UploadState.CONFIRMING, after_expiry - timedelta(seconds=5)
        db.session.commit()
        assert expire_uploads(after_expiry) == []  # a confirmation started just before the deadline runs on
        stuck = after_expiry + timedelta(seconds=app.config["JOB_TIMEOUT"])
        assert expire_uploads(stuck) == [upload["id"]]  # its process died: the reaper cleans up
    assert leftovers(s3) == NOTHING


def test_the_submit_page_uploads_straight_to_the_store_and_the_server_records_the_digest(s3):
    """The browser cannot hash a large file as it reads it: it confirms the size, and the server reads the sha256."""
    auth, client = AuthActions(s3["client"]), s3["client"]
    auth.login("rita", PASSWORD)
    page = client.get(f"/competitions/{SLUG}/submit").get_data(as_text=True)
    assert f'data-direct-upload="/competitions/{SLUG}/uploads"' in page and f'data-part-size="{5 * MB}"' in page
    csrf = {"X-CSRFToken": auth.csrf_token(f"/competitions/{SLUG}/submit")}
    content = s3["content"]

    def start_from_page():
        announced = {"file_name": "p.csv", "size": len(content), "parts": announced_parts(content, [len(content)])}
        started = client.post(f"/competitions/{SLUG}/uploads", json=announced, headers=csrf)
        assert started.status_code == 201, started.get_json()
        put(started.get_json()["parts"], content)
        return started.get_json()["complete_url"]

    refused = client.post(start_from_page(), json={"size": len(content) - 1}, headers=csrf)
    assert refused.status_code == 400 and "announced" in refused.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING
    accepted = client.post(start_from_page(), json={"size": len(content)}, headers=csrf)
    assert accepted.status_code == 202 and accepted.get_json()["redirect"] == f"/competitions/{SLUG}/submissions"
    with s3["app"].app_context():
        submission = db.session.get(Submission, accepted.get_json()["id"])
        assert submission.file_sha256 == sha(content) and submission.file_size == len(content)


def test_the_submit_page_cancels_an_upload_it_cannot_finish(s3):
    auth, client = AuthActions(s3["client"]), s3["client"]
    auth.login("rita", PASSWORD)
    csrf = {"X-CSRFToken": auth.csrf_token(f"/competitions/{SLUG}/submit")}
    content = os.urandom(12 * MB)
    announced = {"file_name": "p.csv", "size": len(content), "parts": announced_parts(content, [6 * MB, 6 * MB])}
    upload = client.post(f"/competitions/{SLUG}/uploads", json=announced, headers=csrf).get_json()
    put(upload["parts"], content, skip=(2,))
    assert client.delete(upload["cancel_url"], headers=csrf).status_code == 204
    assert leftovers(s3) == NOTHING
    assert client.delete(upload["cancel_url"], headers=csrf).status_code == 404


def test_a_participant_who_can_now_read_the_labels_neither_confirms_nor_starts_an_upload(s3):
    """rita joined, then became a shifter of the task whose labels score the competition."""
    content = s3["content"]
    upload = start(s3, len(content)).get_json()
    put(upload["parts"], content)
    with s3["app"].app_context():
        task = LabellingTask(name="Express 2026A", reco=Reco.EXPRESS)
        db.session.add(task)
        db.session.flush()
        db.session.execute(db.select(Competition)).scalar_one().dataset_version.task_id = task.id
        rita = db.session.execute(db.select(User).where(User.username == "rita")).scalar_one()
        rita.set_roles({Role.RESEARCHER, Role.SHIFTER})
        db.session.commit()
    refused = confirm(s3, upload["id"], len(content), sha(content))
    assert refused.status_code == 403 and "shifter" in refused.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING
    again = start(s3, len(content))
    assert again.status_code == 403 and "Express 2026A" in again.get_json()["error"]["message"]
    assert leftovers(s3) == NOTHING
