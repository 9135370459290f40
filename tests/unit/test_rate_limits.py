"""Rate limits: the API's per token (429 in its error format with Retry-After, Redis-backed when deployed), and
the login and registration forms' per address, whatever headers a client makes up.

Limits are counted per hour, so that no window resets while a test runs (windows start at the first hit).
"""

from __future__ import annotations

import time
import uuid

import pytest
from playground_client import Client

from tests import services
from tests.conftest import AuthActions, make_app
from tests.helpers import PASSWORD, bearer, make_token, make_user


@pytest.fixture
def limited(database_url, tmp_path):
    """The app with rate limits on: three API calls, logins or registrations an hour."""
    app = make_app(
        database_url,
        tmp_path,
        RATELIMIT_ENABLED=True,
        API_RATE_LIMIT="3 per hour",
        LOGIN_RATE_LIMIT="3 per hour",
        REGISTER_RATE_LIMIT="3 per hour",
    )
    with app.app_context():
        tokens = [make_token(make_user(name)) for name in ("rita", "ravi")]
    return app, tokens


def made_up_token() -> dict[str, str]:
    """An Authorization header no account ever had."""
    return {"Authorization": f"Bearer dqm_{uuid.uuid4().hex}"}


def test_fourth_call_in_an_hour_is_refused_with_json_and_retry_after(limited):
    app, (rita, _) = limited
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(rita)).status_code == 200
    refused = client.get("/api/v1/competitions", headers=bearer(rita))
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "3 per hour" in refused.get_json()["error"]["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600


def test_each_token_has_its_own_budget_and_pages_are_not_counted(limited):
    app, (rita, ravi) = limited
    client = app.test_client()
    for _ in range(3):
        client.get("/api/v1/me", headers=bearer(rita))
    assert client.get("/api/v1/me", headers=bearer(rita)).status_code == 429
    assert client.get("/api/v1/me", headers=bearer(ravi)).status_code == 200
    assert client.get("/api/v1/competitions").status_code == 200  # anonymous: counted by address
    assert all(client.get("/competitions").status_code == 200 for _ in range(5))


def test_made_up_tokens_count_against_the_address(limited):
    """Only a valid token has a budget of its own: a fresh made-up header each call buys nothing."""
    app, (rita, _) = limited
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=made_up_token()).status_code == 401
    refused = client.get("/api/v1/competitions", headers={"Authorization": f"Basic {uuid.uuid4().hex}"})
    assert refused.status_code == 429
    assert client.get("/api/v1/competitions").status_code == 429
    assert client.get("/api/v1/me", headers=bearer(rita)).status_code == 200


def test_login_attempts_count_per_address_whatever_the_headers(limited):
    """A password-guessing client cannot buy fresh attempts with a made-up or even a valid token."""
    app, (rita, _) = limited
    auth = AuthActions(app.test_client())

    def guess(password: str, headers: dict[str, str]) -> int:
        data = {"username": "rita", "password": password, "csrf_token": auth.csrf_token()}
        return auth.client.post("/login", data=data, headers=headers).status_code

    assert [guess("guess-1234", made_up_token()) for _ in range(3)] == [200, 200, 200]
    assert guess("guess-5678", bearer(rita)) == 429
    assert guess(PASSWORD, made_up_token()) == 429
    assert guess(PASSWORD, {}) == 429


def test_registrations_count_per_address_whatever_the_headers(limited):
    app, _ = limited

    def register(username: str) -> int:
        auth = AuthActions(app.test_client())  # a new browser each time, from the same address
        data = {"username": username, "password": "a-long-password", "confirm": "a-long-password"}
        data["csrf_token"] = auth.csrf_token("/register")
        return auth.client.post("/register", data=data, headers=made_up_token()).status_code

    assert [register(f"bot{n}") for n in range(4)] == [302, 302, 302, 429]


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
