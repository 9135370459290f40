"""Direct uploads without a store: part planning, and the filesystem backend sending clients to the form route."""

from __future__ import annotations

import itertools

import pytest

from app.services.competitions.uploads import MAX_PARTS, MIN_PART_SIZE, plan_parts
from tests.helpers import PASSWORD, bearer, make_token, make_user, write_bundle

MB = 1024 * 1024


@pytest.mark.parametrize("size", [1, 64 * MB, 64 * MB + 1, 500 * MB, 7 * 1024 * MB + 3])
def test_parts_cover_the_file_exactly_within_the_stores_limits(size):
    parts = plan_parts(size, 64 * MB)
    assert parts[0][0] == 0 and sum(length for _, length in parts) == size
    assert all(a + la == b for (a, la), (b, _) in itertools.pairwise(parts))
    assert len(parts) <= MAX_PARTS
    assert all(length >= MIN_PART_SIZE for _, length in parts[:-1])


def test_tiny_part_sizes_are_raised_to_the_stores_minimum():
    assert plan_parts(12 * MB, 1) == [(0, 5 * MB), (5 * MB, 5 * MB), (10 * MB, 2 * MB)]


def test_filesystem_backend_answers_direct_uploads_with_a_code_clients_recognise(app, client, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        from app.services.competitions.bundles import import_bundle

        import_bundle(folder)
        token = make_token(make_user("rita"))
    response = client.post(
        "/api/v1/competitions/test-comp/uploads", headers=bearer(token), json={"file_name": "p.csv", "size": 10}
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "direct_uploads_unavailable"
    assert "/api/v1/competitions/test-comp/submissions" in error["message"]


def test_unknown_uploads_are_404_and_calls_need_a_token(app, client):
    with app.app_context():
        token = make_token(make_user("rita"))
    body = {"size": 1, "sha256": "0" * 64}
    assert client.post("/api/v1/uploads/abc/complete", headers=bearer(token), json=body).status_code == 404
    assert client.delete("/api/v1/uploads/abc", headers=bearer(token)).status_code == 404
    assert client.post("/api/v1/uploads/abc/complete", json=body).status_code == 401
    assert client.post("/api/v1/competitions/nope/uploads", headers=bearer(token), json={}).status_code == 404


def test_submit_page_posts_its_form_where_the_platform_keeps_the_files(app, client, auth, tmp_path):
    """On the filesystem backend the page loads no upload script, and its upload route says to post the form."""
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        from app.services.competitions.bundles import import_bundle

        import_bundle(folder)
        token = make_token(make_user("rita"))
    client.post("/api/v1/competitions/test-comp/join", headers=bearer(token), json={"accept_rules": True})
    auth.login("rita", PASSWORD)
    page = client.get("/competitions/test-comp/submit").get_data(as_text=True)
    assert "data-direct-upload" not in page and "direct-upload.js" not in page
    csrf = auth.csrf_token("/competitions/test-comp/submit")
    announced = {"file_name": "p.csv", "size": 10, "parts": [{"size": 10, "crc32": "AAAAAA=="}]}
    response = client.post("/competitions/test-comp/uploads", json=announced, headers={"X-CSRFToken": csrf})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "direct_uploads_unavailable"
    assert client.post("/competitions/test-comp/uploads", json=announced).status_code == 400  # no CSRF token
    auth.logout()
    logged_out = client.post("/competitions/test-comp/uploads", json=announced, headers={"X-CSRFToken": csrf})
    assert logged_out.status_code == 302 and logged_out.headers["Location"].startswith("/login")
