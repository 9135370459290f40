"""API authentication: bearer tokens stored as hashes, revocable, and JSON errors."""

import pytest

from app.extensions import db
from app.models import ApiToken, Role
from tests.helpers import PASSWORD, bearer, make_token, make_user

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_call_without_token_is_401_json(client):
    error = assert_json_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert "Bearer" in error["message"]


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "dqm_abc"])
def test_bad_or_malformed_token_is_401_json(client, header):
    assert_json_error(client.get("/api/v1/me", headers={"Authorization": header}), 401, "unauthorized")


def test_unknown_api_route_is_404_json(client):
    assert_json_error(client.get("/api/v1/no-such-route"), 404, "not_found")


def test_valid_token_identifies_the_user(app, client):
    with app.app_context():
        secret = make_token(make_user("rita", Role.RESEARCHER, Role.SHIFTER))
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    assert response.get_json() == {"username": "rita", "email": None, "roles": ["researcher", "shifter"]}


def test_token_is_stored_only_as_a_hash(app):
    with app.app_context():
        secret = make_token(make_user("rita"))
        row = db.session.execute(db.select(ApiToken)).scalar_one()
        stored = [str(getattr(row, column.key)) for column in ApiToken.__table__.columns]
        assert all(secret not in value for value in stored)
        assert row.token_hash != secret and len(row.token_hash) == 64


def test_token_revoked_on_the_web_page_stops_working(app, client, auth):
    with app.app_context():
        secret = make_token(make_user("rita"))
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    auth.login("rita", PASSWORD)
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": auth.csrf_token("/account/tokens")})
    assert_json_error(client.get("/api/v1/me", headers=bearer(secret)), 401, "unauthorized")


def test_api_is_exempt_from_csrf_and_a_token_can_revoke_itself(app, client):
    with app.app_context():
        secret = make_token(make_user("rita"))
    assert client.delete("/api/v1/token", headers=bearer(secret)).status_code == 204
    assert_json_error(client.get("/api/v1/me", headers=bearer(secret)), 401, "unauthorized")


def test_token_of_a_deactivated_user_is_refused(app, client):
    with app.app_context():
        user = make_user("rita")
        secret = make_token(user)
        user.active = False
        db.session.commit()
    assert_json_error(client.get("/api/v1/me", headers=bearer(secret)), 401, "unauthorized")


def test_web_page_shows_a_new_token_once(app, client, auth):
    with app.app_context():
        make_user("rita")
    auth.login("rita", PASSWORD)
    created = client.post("/account/tokens", data={"name": "laptop", "csrf_token": auth.csrf_token("/account/tokens")})
    page = created.get_data(as_text=True)
    secret = page.split('data-testid="new-token">', 1)[1].split("<", 1)[0]
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["username"] == "rita"
    assert secret not in client.get("/account/tokens").get_data(as_text=True)


def test_wrong_method_under_api_is_json(client):
    assert_json_error(client.post("/api/v1/me"), 405, "method_not_allowed")
