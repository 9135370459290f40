"""Accounts through the real forms: register, log in and out, change password, CSRF, the password rules."""

import hashlib
import re

import pytest

from app.extensions import db
from app.models import Role, User
from app.services import accounts
from tests.helpers import PASSWORD, make_user

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def test_register_creates_a_researcher_and_logs_in(app, client, auth):
    response = auth.register("alice", "a-long-password", email="Alice@Example.org")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="nav-username">alice<' in page
    with app.app_context():
        user = accounts.find_user("alice")
        assert user.roles == {Role.RESEARCHER}
        assert user.email == "alice@example.org"
        assert user.password_hash != "a-long-password" and user.check_password("a-long-password")


def test_duplicate_username_gets_a_clear_error(app, client, auth):
    with app.app_context():
        make_user("alice")
    response = auth.register("ALICE", "a-long-password")
    assert response.status_code == 400
    assert "The username &#39;ALICE&#39; is already taken." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 1


def test_register_rejects_mismatched_and_short_passwords(app, auth):
    assert "The passwords differ." in auth.register("bob", "a-long-password", confirm="other").get_data(as_text=True)
    assert "at least 8" in auth.register("bob", "short").get_data(as_text=True)
    with app.app_context():
        assert accounts.find_user("bob") is None


def test_wrong_password_and_unknown_user_get_one_generic_message(app, client, auth):
    with app.app_context():
        make_user("alice")
    wrong = auth.login("alice", "not-the-password").get_data(as_text=True)
    unknown = auth.login("nobody", "not-the-password").get_data(as_text=True)
    for page in (wrong, unknown):
        assert "Invalid username or password." in page
        assert "nav-username" not in page


def test_login_shows_the_name_and_logout_ends_the_session(app, client, auth):
    with app.app_context():
        make_user("alice")
    response = auth.login("alice", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "nav-username" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "nav-username" not in client.get("/").get_data(as_text=True)


def test_login_without_csrf_token_is_refused(app, client):
    with app.app_context():
        make_user("alice")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert "nav-username" not in client.get("/").get_data(as_text=True)


def test_register_without_csrf_token_creates_nothing(app, client):
    data = {"username": "mallory", "password": "a-long-password", "confirm": "a-long-password"}
    assert client.post("/register", data=data).status_code == 400
    with app.app_context():
        assert accounts.find_user("mallory") is None


def test_login_never_redirects_to_another_host(app, auth):
    with app.app_context():
        make_user("alice")
    response = auth.client.post(
        "/login?next=//evil.example/steal",
        data={"username": "alice", "password": PASSWORD, "csrf_token": auth.csrf_token()},
    )
    assert response.headers["Location"] == "/"


def test_deactivated_user_cannot_log_in(app, auth):
    with app.app_context():
        make_user("alice").active = False
        db.session.commit()
    assert "Invalid username or password." in auth.login("alice", PASSWORD).get_data(as_text=True)


def test_change_password_needs_the_current_one(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login("alice", PASSWORD)
    token = auth.csrf_token("/account/password")
    wrong = client.post(
        "/account/password",
        data={
            "current": "guess-guess",
            "password": "new-password-1",
            "confirm": "new-password-1",
            "csrf_token": token,
        },
    )
    assert "This is not your current password." in wrong.get_data(as_text=True)
    right = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "new-password-1",
            "confirm": "new-password-1",
            "csrf_token": token,
        },
    )
    assert right.status_code == 302
    auth.logout()
    assert "Invalid username or password." in auth.login("alice", PASSWORD).get_data(as_text=True)
    assert auth.login("alice", "new-password-1").status_code == 302


def test_logout_by_get_is_not_possible(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login("alice", PASSWORD)
    assert client.get("/logout").status_code == 405
    assert "nav-username" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "email", "password", "rule"),
    [
        ("alice", "", "password", "among the most common ones"),
        ("alice", "", "12345678", "among the most common ones"),
        ("alice", "", "Iloveyou1", "among the most common ones"),
        ("alice-in-chains", "", "Alice-In-Chains", "must not be the username"),
        ("alice", "alice.liddell@example.org", "alice.liddell@example.org", "must not be the e-mail address"),
        ("alice", "alice.liddell@example.org", "Alice.Liddell", "must not be the e-mail address"),
        ("alice", "", "short", "at least 8 characters"),
    ],
)
def test_register_refuses_weak_passwords_saying_which_rule(app, auth, username, email, password, rule):
    response = auth.register(username, password, email=email)
    assert response.status_code == 400
    assert rule in response.get_data(as_text=True)
    with app.app_context():
        assert accounts.find_user(username) is None


def test_register_marks_the_password_field_when_the_password_is_a_common_one(auth):
    page = auth.register("alice", "password").get_data(as_text=True)
    invalid = re.findall(r"<input[^>]*is-invalid[^>]*>", page)
    assert len(invalid) == 1 and 'name="password"' in invalid[0]


@pytest.mark.parametrize(
    ("email", "problem"),
    [("not-an-address", "must have an @-sign"), ("rita@demo.invalid", "special-use"), ("rita@localhost", "period")],
)
def test_register_refuses_invalid_email_addresses(app, auth, email, problem):
    response = auth.register("rita", "a-long-password", email=email)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This e-mail address is not valid" in page and problem in page
    with app.app_context():
        assert accounts.find_user("rita") is None


def test_change_password_refuses_a_common_one(app, client, auth):
    with app.app_context():
        make_user("alice", email="alice@example.org")
    auth.login("alice", PASSWORD)
    for weak, rule in (("qwertyuiop", "among the most common ones"), ("ALICE@example.org", "e-mail address")):
        data = {
            "current": PASSWORD,
            "password": weak,
            "confirm": weak,
            "csrf_token": auth.csrf_token("/account/password"),
        }
        response = client.post("/account/password", data=data)
        assert response.status_code == 400 and rule in response.get_data(as_text=True)
    with app.app_context():
        assert accounts.find_user("alice").check_password(PASSWORD)


def test_every_login_attempt_costs_one_password_hash(app, auth, monkeypatch):
    """An unknown or inactive name is refused after as much work as a wrong password: one password hash.

    Without it an unknown name was refused 20 times faster, and timing told which usernames exist.
    """
    with app.app_context():
        make_user("alice")
        make_user("ivan").active = False
        db.session.commit()
    auth.login("nobody", "not-the-password")  # a process makes its dummy hash at the first unknown name
    derivations = []
    derive = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *args, **kwargs: derivations.append(1) or derive(*args, **kwargs))
    for username, password in [("alice", "not-the-password"), ("nobody", "not-the-password"), ("ivan", PASSWORD)]:
        derivations.clear()
        page = auth.login(username, password).get_data(as_text=True)
        assert "Invalid username or password." in page
        assert len(derivations) == 1, username
