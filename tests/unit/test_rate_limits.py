"""API rate limits: 429 in the API's error format with Retry-After, per token, Redis-backed when deployed."""

from __future__ import annotations

import time
import uuid

import pytest
from playground_client import Client

from tests import services
from tests.conftest import make_app
from tests.helpers import bearer, make_token, make_user


@pytest.fixture
def limited(database_url, tmp_path):
    """The app with rate limits on: three API calls a minute."""
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context():
        tokens = [make_token(make_user(name)) for name in ("rita", "ravi")]
    return app, tokens


def test_fourth_call_in_a_minute_is_refused_with_json_and_retry_after(limited):
    app, (rita, _) = limited
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(rita)).status_code == 200
    refused = client.get("/api/v1/competitions", headers=bearer(rita))
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "3 per minute" in refused.get_json()["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_each_token_has_its_own_budget_and_pages_are_not_counted(limited):
    app, (rita, ravi) = limited
    client = app.test_client()
    for _ in range(3):
        client.get("/api/v1/me", headers=bearer(rita))
    assert client.get("/api/v1/me", headers=bearer(rita)).status_code == 429
    assert client.get("/api/v1/me", headers=bearer(ravi)).status_code == 200
    assert client.get("/api/v1/competitions").status_code == 200  # anonymous: counted by address
    assert all(client.get("/competitions").status_code == 200 for _ in range(5))


@pytest.mark.parametrize(("proxies", "separate"), [(0, False), (1, True)], ids=["direct", "behind-a-proxy"])
def test_forwarded_addresses_count_only_behind_trusted_proxies(database_url, tmp_path, proxies, separate):
    """Behind an ingress every client arrives from its address: X-Forwarded-For tells them apart.

    Served directly, the header is the client's own words and cannot buy a fresh budget.
    """
    app = make_app(
        database_url, tmp_path, RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute", TRUSTED_PROXIES=proxies
    )
    client = app.test_client()
    for _ in range(2):
        assert client.get("/api/v1/competitions", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
    other = client.get("/api/v1/competitions", headers={"X-Forwarded-For": "10.0.0.2"})
    assert other.status_code == (200 if separate else 429)
    assert client.get("/api/v1/competitions", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 429


@pytest.mark.redis
def test_web_processes_share_their_counts_through_redis(database_url, tmp_path):
    """Two apps on one Redis (two web processes) draw from the same budget."""
    settings = {
        "RATELIMIT_ENABLED": True,
        "API_RATE_LIMIT": "3 per minute",
        "RATELIMIT_STORAGE_URI": services.redis_url(),
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    first = make_app(database_url, tmp_path, **settings)
    with first.app_context():
        token = make_token(make_user("rita"))
    for _ in range(3):
        assert first.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200
    second = make_app(database_url, tmp_path, **settings)
    assert second.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 429


def test_client_waits_for_retry_after_and_then_succeeds(database_url, tmp_path):
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per 2 seconds")
    with app.app_context():
        token = make_token(make_user("rita"))
    url, stop = services.serve(app)
    try:
        notes: list[str] = []
        client = Client(url, token, on_wait=notes.append)
        started = time.monotonic()
        names = [client.me()["username"] for _ in range(5)]
        assert names == ["rita"] * 5
        assert notes and "429" in notes[0]
        assert time.monotonic() - started >= 1
    finally:
        stop()
