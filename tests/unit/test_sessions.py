"""Sessions end on the server: logout, a password change, deactivation and an admin's "log out everywhere"
refuse every copy of the session and remember cookies, not only the browser that asked."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.models import AuditEntry, Role, User
from app.services import accounts
from config import Config
from tests.conftest import AuthActions
from tests.helpers import PASSWORD, bearer, make_token, make_user

pytestmark = pytest.mark.databases("sqlite", "postgresql")

SESSION, REMEMBER = "session", "remember_token"


def logged_in_as(client: FlaskClient) -> str | None:
    """The username the navigation shows to this client, or None when it is logged out."""
    page = client.get("/").get_data(as_text=True)
    marker = 'data-testid="nav-username">'
    return page.split(marker, 1)[1].split("<", 1)[0] if marker in page else None


def replay(app: Flask, **cookies: str) -> FlaskClient:
    """A second browser carrying copies of these cookies and nothing else."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def cookie(client: FlaskClient, name: str) -> str:
    """The value of a cookie the client holds."""
    held = client.get_cookie(name)
    assert held is not None, f"the client holds no {name} cookie"
    return held.value


def change_password(client: FlaskClient, auth: AuthActions, current: str, new: str):
    """Submit the change-password form."""
    data = {"current": current, "password": new, "confirm": new, "csrf_token": auth.csrf_token("/account/password")}
    return client.post("/account/password", data=data)


def test_logout_refuses_a_copied_session_cookie(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login("alice", PASSWORD)
    stolen = cookie(client, SESSION)
    assert logged_in_as(replay(app, session=stolen)) == "alice"
    auth.logout()
    assert logged_in_as(client) is None
    copy = replay(app, session=stolen)
    assert logged_in_as(copy) is None
    assert copy.get("/account/tokens").status_code == 302  # sent to the login page


def test_logout_refuses_a_copied_remember_cookie(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login("alice", PASSWORD, remember="y")
    remembered = cookie(client, REMEMBER)
    assert logged_in_as(replay(app, remember_token=remembered)) == "alice"
    auth.logout()
    assert client.get_cookie(REMEMBER) is None
    assert logged_in_as(replay(app, remember_token=remembered)) is None


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login("alice", PASSWORD, remember="y")
    old_session, old_remember = cookie(client, SESSION), cookie(client, REMEMBER)
    elsewhere = replay(app, session=old_session)
    assert logged_in_as(elsewhere) == "alice"

    assert change_password(client, auth, PASSWORD, "new-password-1").status_code == 302
    assert logged_in_as(client) == "alice"
    assert logged_in_as(elsewhere) is None
    assert logged_in_as(replay(app, remember_token=old_remember)) is None
    assert logged_in_as(replay(app, session=old_session)) is None
    fresh = cookie(client, REMEMBER)
    assert fresh != old_remember
    assert logged_in_as(replay(app, remember_token=fresh)) == "alice"


def test_a_refused_password_change_ends_nothing(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login("alice", PASSWORD)
    elsewhere = replay(app, session=cookie(client, SESSION))
    assert change_password(client, auth, "not-my-password", "new-password-1").status_code == 400
    assert change_password(client, auth, PASSWORD, "password1").status_code == 400
    assert logged_in_as(elsewhere) == "alice"
    with app.app_context():
        assert accounts.find_user("alice").check_password(PASSWORD)


def test_a_session_from_before_session_versions_is_logged_out(app, client):
    """A cookie that names a bare user id, as sessions did before, logs that browser out without an error."""
    with app.app_context():
        user_id = make_user("alice").id
    for stale in (str(user_id), f"{user_id}:x", f"{user_id}:", "garbage"):
        with client.session_transaction() as session:
            session["_user_id"] = stale
        response = client.get("/account/tokens")
        assert response.status_code == 302 and "/login" in response.headers["Location"], stale
        assert logged_in_as(client) is None


def admin_and_alice(app: Flask, client: FlaskClient, auth: AuthActions) -> tuple[int, FlaskClient, str]:
    """Alice logged in on a browser of her own (with an API token); the admin logged in on ``client``."""
    with app.app_context():
        make_user("root", Role.ADMIN)
        alice = make_user("alice")
        alice_id, token = alice.id, make_token(alice)
    alices = app.test_client()
    AuthActions(alices).login("alice", PASSWORD, remember="y")
    assert logged_in_as(alices) == "alice"
    auth.login("root", PASSWORD)
    return alice_id, alices, token


def audit_actions(app: Flask, user_id: int) -> list[str]:
    """The audit log's actions about this user, in order."""
    with app.app_context():
        return list(
            db.session.execute(
                db.select(AuditEntry.action)
                .where(AuditEntry.entity == "user", AuditEntry.entity_id == user_id)
                .order_by(AuditEntry.id)
            ).scalars()
        )


def test_admin_logs_a_user_out_everywhere(app, client, auth):
    alice_id, alices, token = admin_and_alice(app, client, auth)
    remembered = cookie(alices, REMEMBER)
    page = client.get(f"/admin/users/{alice_id}").get_data(as_text=True)
    assert "Log out everywhere" in page
    response = client.post(f"/admin/users/{alice_id}/logout", data={"csrf_token": auth.csrf_token("/")})
    assert response.status_code == 302
    assert "alice is logged out of every browser." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert logged_in_as(alices) is None
    assert logged_in_as(replay(app, remember_token=remembered)) is None
    assert logged_in_as(client) == "root"
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200  # tokens have their own revocation
    assert audit_actions(app, alice_id) == ["sessions_end"]


def test_only_admins_log_users_out_everywhere(app, client, auth):
    with app.app_context():
        make_user("mallory")
        alice_id = make_user("alice").id
    alices = app.test_client()
    AuthActions(alices).login("alice", PASSWORD)
    auth.login("mallory", PASSWORD)
    response = client.post(f"/admin/users/{alice_id}/logout", data={"csrf_token": auth.csrf_token("/")})
    assert response.status_code == 403
    assert logged_in_as(alices) == "alice"


def test_deactivation_ends_sessions_and_tokens(app, client, auth):
    alice_id, alices, token = admin_and_alice(app, client, auth)
    remembered = cookie(alices, REMEMBER)
    data = {"roles": ["researcher"], "csrf_token": auth.csrf_token(f"/admin/users/{alice_id}")}  # "active" unticked
    assert client.post(f"/admin/users/{alice_id}", data=data).status_code == 302
    assert logged_in_as(alices) is None
    assert logged_in_as(replay(app, remember_token=remembered)) is None
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert audit_actions(app, alice_id) == ["account_edit", "sessions_end"]


def test_remember_cookie_is_guarded_like_the_session_cookie(database_url, tmp_path):
    """HttpOnly and SameSite=Lax always, Secure in production: a remember cookie is a login."""
    for env, secure in (({"APP_ENV": "production"}, True), ({}, False)):
        config = Config(
            env | {"SECRET_KEY": "k" * 40, "DATABASE_URL": database_url, "STORAGE_URL": f"file://{tmp_path}/storage"}
        )
        app = create_app(config, TESTING=True, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, REAPER_INTERVAL=0)
        with app.app_context():
            if not db.session.execute(db.select(User.id)).first():
                make_user("alice")
        response = app.test_client().post("/login", data={"username": "alice", "password": PASSWORD, "remember": "y"})
        assert response.status_code == 302
        header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{REMEMBER}="))
        assert "HttpOnly" in header and "SameSite=Lax" in header
        assert ("Secure" in header) is secure
        with app.app_context():
            db.engine.dispose()
