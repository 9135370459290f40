"""One way to refuse: a service's Refused becomes the API's JSON error or an error page, with its headers."""

from __future__ import annotations

import pytest
from flask import Flask

from app.services.errors import Refused


@pytest.fixture
def refusing(app: Flask) -> Flask:
    """Two routes that refuse as a service would: one under the API, one a page."""

    def refuse():
        raise Refused(["first problem", "second problem"], 429, retry_after=7, location="/api/v1/things/1")

    app.add_url_rule("/api/v1/refuse-for-test", "api_refuse", refuse)
    app.add_url_rule("/refuse-for-test", "page_refuse", refuse)
    return app


def test_an_api_refusal_is_the_json_error_with_its_headers(refusing):
    response = refusing.test_client().get("/api/v1/refuse-for-test")
    assert response.status_code == 429
    assert response.get_json() == {"error": {"code": "rate_limited", "message": "first problem; second problem"}}
    assert response.headers["Retry-After"] == "7" and response.headers["Location"] == "/api/v1/things/1"


def test_a_page_refusal_is_an_error_page_saying_why(refusing):
    response = refusing.test_client().get("/refuse-for-test")
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "first problem; second problem" in page and "Too Many Requests" in page
    assert response.headers["Retry-After"] == "7"
