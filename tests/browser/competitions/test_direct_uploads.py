"""On S3 storage the submit form sends the file straight to the store, in checksummed parts, past the web process."""

from __future__ import annotations

import base64
import time
import zlib
from collections.abc import Iterator

import boto3
import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Submission
from app.models.uploads import Upload
from app.services.competitions.bundles import import_bundle
from tests.conftest import make_app
from tests.helpers import PASSWORD, bearer, make_token, make_user, predictions_csv, write_bundle
from tests.integration.test_client_deployed import BodySizes, write_large_predictions

pytestmark = [pytest.mark.browser, pytest.mark.s3]
SLUG = "test-comp"
MB = 1024 * 1024


@pytest.fixture
def app(database_url, tmp_path, s3_bucket) -> Iterator[Flask]:
    """The app storing files in a bucket of its own, in parts of 5 MB above 5 MB, its request sizes recorded."""
    bucket, endpoint = s3_bucket
    app = make_app(
        database_url,
        tmp_path,
        STORAGE_URL=f"s3://{bucket}/web",
        S3_ENDPOINT_URL=endpoint,
        UPLOAD_PART_SIZE=5 * MB,
        UPLOAD_MULTIPART_THRESHOLD=5 * MB,
    )
    app.wsgi_app = app.extensions["body_sizes"] = BodySizes(app.wsgi_app)
    yield app
    app.extensions["job_queue"].join()
    with app.app_context():
        db.engine.dispose()


def _joined_researcher(app, live_server, s3_bucket, tmp_path, rows: int = 300):
    """A competition, a joined researcher, and a bucket the platform's pages may PUT to; returns (ids, x)."""
    bucket, endpoint = s3_bucket
    # A browser on the platform's origin may PUT to the store: the bucket's CORS rule, as a deployment sets it.
    boto3.client("s3", endpoint_url=endpoint).put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": [live_server], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}]
        },
    )
    folder, ids, _, x = write_bundle(tmp_path / "bundle", n=rows)
    with app.app_context():
        import_bundle(folder)
        token = make_token(make_user("rita"))
    app.test_client().post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
    return ids, x


def _log_in(page, live_server) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_large_file_goes_from_the_browser_to_the_store_and_is_scored(app, live_server, page, tmp_path, s3_bucket):
    ids, x = _joined_researcher(app, live_server, s3_bucket, tmp_path, rows=180_000)
    predictions = tmp_path / "predictions.csv"
    write_large_predictions(predictions, ids, x)
    content = predictions.read_bytes()
    assert len(content) > 12 * MB  # three parts of 5 MB or less

    puts = []
    page.on("request", lambda request: puts.append(request) if request.method == "PUT" else None)
    _log_in(page, live_server)
    page.goto(f"{live_server}/competitions/{SLUG}/submit")
    page.get_by_label("Predictions").set_input_files(str(predictions))
    page.get_by_label("Description").fill("straight to the store")
    page.get_by_role("button", name="Submit predictions").click()

    expect(page.get_by_text("is queued for scoring")).to_be_visible(timeout=60_000)
    row = page.locator("tr[data-submission]").first
    expect(row.locator('[data-field="status"]')).to_have_text("scored", timeout=60_000)

    assert app.extensions["body_sizes"].largest < MB, "the file went through the web process"
    # One PUT per part of 5 MB, each with the CRC32 of its own bytes, as the browser computed it.
    pieces = [content[offset : offset + 5 * MB] for offset in range(0, len(content), 5 * MB)]
    expected = [base64.b64encode(zlib.crc32(piece).to_bytes(4, "big")).decode() for piece in pieces]
    assert sorted(request.headers["x-amz-checksum-crc32"] for request in puts) == sorted(expected)
    with app.app_context():
        submission = db.session.execute(db.select(Submission)).scalar_one()
        assert submission.file_size == len(content) and submission.description == "straight to the store"


def test_an_upload_the_store_refuses_is_reported_and_cancelled(app, live_server, page, tmp_path, s3_bucket):
    ids, x = _joined_researcher(app, live_server, s3_bucket, tmp_path)
    predictions = tmp_path / "predictions.csv"
    predictions.write_bytes(predictions_csv(ids, x))
    _, endpoint = s3_bucket
    page.route(
        f"{endpoint}/**",
        lambda route: (
            route.fulfill(status=503, headers={"Access-Control-Allow-Origin": live_server})
            if route.request.method == "PUT"
            else route.continue_()
        ),
    )
    _log_in(page, live_server)
    page.goto(f"{live_server}/competitions/{SLUG}/submit")
    page.get_by_label("Predictions").set_input_files(str(predictions))
    page.get_by_role("button", name="Submit predictions").click()

    expect(page.get_by_role("status")).to_have_text("The file store refused part 1 (503).", timeout=20_000)
    expect(page.get_by_role("button", name="Submit predictions")).to_be_enabled()
    with app.app_context():
        for _ in range(100):  # the page cancels without waiting for the answer
            if db.session.execute(db.select(db.func.count(Upload.id))).scalar_one() == 0:
                break
            db.session.rollback()
            time.sleep(0.1)
        assert db.session.execute(db.select(db.func.count(Upload.id))).scalar_one() == 0
        assert db.session.execute(db.select(Submission)).first() is None
