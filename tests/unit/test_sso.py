"""Single sign-on without a provider: the role map and the other settings checked at start-up, usernames made
for new accounts, roles from groups, and what the login pages offer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from app.models import AuditEntry, Role, User
from app.services import accounts, sso
from config import Config, ConfigError
from tests.conftest import make_app
from tests.helpers import PASSWORD, make_user
from tests.services import free_port

SETTINGS = {
    "OIDC_ISSUER": "https://auth.example.org/realms/cms",
    "OIDC_CLIENT_ID": "dqm-playground",
    "OIDC_CLIENT_SECRET": "s3cret",
}


def start(**variables: str):
    """Create the application from these environment variables, as `flask` and gunicorn do."""
    return create_app(Config({"SECRET_KEY": "test-secret", "DATABASE_URL": "sqlite://"} | variables))


# The role map.


def test_role_map_names_the_roles_each_group_grants():
    role_map = sso.parse_role_map(" cms-dqm-shifters = shifter, cms-dqm-leaders=shift_leader,cms-dqm-leaders=shifter,")
    assert role_map == {
        "cms-dqm-shifters": frozenset({Role.SHIFTER}),
        "cms-dqm-leaders": frozenset({Role.SHIFT_LEADER, Role.SHIFTER}),
    }
    assert sso.parse_role_map("") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cms-dqm-shifters", "the entry 'cms-dqm-shifters' is not of the form group=role"),
        ("=shifter", "the entry '=shifter' is not of the form group=role"),
        ("cms-dqm-shifters=", "the entry 'cms-dqm-shifters=' is not of the form group=role"),
        ("a=shifter,cms-dqm=wizard", "the entry 'cms-dqm=wizard' names no role of the platform (roles: researcher, "),
        ("cms-dqm=Shifter", "the entry 'cms-dqm=Shifter' names no role"),
        ("a=b=shifter", "the entry 'a=b=shifter' names no role"),
    ],
)
def test_a_bad_role_map_entry_is_refused_by_name(text, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        sso.parse_role_map(text)


def test_a_bad_role_map_stops_the_start_with_a_clear_message():
    with pytest.raises(ConfigError) as refused:
        start(OIDC_ROLE_MAP="cms-dqm-shifters=shifter,cms-dqm-leaders=leader", **SETTINGS)
    assert str(refused.value) == (
        "OIDC_ROLE_MAP is not valid: the entry 'cms-dqm-leaders=leader' names no role of the platform "
        "(roles: researcher, shifter, shift_leader, organiser, admin). Write it as group=role,group=role."
    )


def test_wsgi_stops_on_a_bad_role_map_with_one_readable_line():
    env = os.environ | SETTINGS | {"OIDC_ROLE_MAP": "cms-dqm-shifters:shifter"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "DQM Playground cannot start: OIDC_ROLE_MAP is not valid: the entry 'cms-dqm-shifters:shifter'" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


# The other settings.


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"OIDC_ISSUER": "http://auth.example.org"}, "the provider must be reached over https"),
        ({"OIDC_ISSUER": "auth.example.org"}, "it must be the provider's https:// address"),
        ({"OIDC_CLIENT_SECRET": ""}, "OIDC_ISSUER is set but OIDC_CLIENT_SECRET is not"),
        ({"OIDC_ISSUER": "http://127.0.0.1:8080", "OIDC_ALLOW_HTTP": "true", "APP_ENV": "production"}, "for tests"),
        ({"OIDC_ALLOW_HTTP": "sometimes"}, "OIDC_ALLOW_HTTP is 'sometimes'; it must be true or false"),
        ({"OIDC_ISSUER": "", "PASSWORD_LOGIN": "false"}, "nobody could log in"),
    ],
)
def test_settings_that_cannot_work_stop_the_start(variables, message):
    with pytest.raises(ConfigError, match=message):
        start(**(SETTINGS | variables))


def test_an_http_issuer_is_accepted_for_tests():
    app = start(**(SETTINGS | {"OIDC_ISSUER": "http://127.0.0.1:8080", "OIDC_ALLOW_HTTP": "true"}))
    assert "oidc" in app.extensions


def test_defaults_offer_password_login_and_no_single_sign_on():
    config = Config({})
    assert config.OIDC_ISSUER is None and config.OIDC_ROLE_MAP == ""
    assert config.OIDC_GROUPS_CLAIM == "groups"
    assert config.PASSWORD_LOGIN is True and config.OIDC_ALLOW_HTTP is False
    assert "oidc" not in start().extensions


# Usernames of new accounts.


def test_the_preferred_username_is_kept_when_free():
    assert sso.unique_username("lea.bauer", "lea@example.org", lambda name: False) == "lea.bauer"


def test_a_taken_username_gets_the_first_free_number():
    taken = {"lea", "lea-2", "lea-3"}
    assert sso.unique_username("lea", None, lambda name: name in taken) == "lea-4"


def test_a_username_is_made_to_fit_the_rules():
    free = lambda name: False  # noqa: E731
    assert sso.unique_username("Léa Müller", None, free) == "Lea-Muller"
    assert sso.unique_username("_lea_", None, free) == "lea"
    assert sso.unique_username(None, "jean.dupont@cern.ch", free) == "jean.dupont"
    assert sso.unique_username("李", None, free) == "user"
    assert sso.unique_username("x", None, free) == "user-x"
    assert accounts.USERNAME_PATTERN.match(sso.unique_username("a" * 100, None, free))


def test_a_long_taken_username_keeps_its_number_within_64_characters():
    long = "a" * 64
    name = sso.unique_username(long, None, lambda name: name == long)
    assert name == "a" * 62 + "-2"
    assert accounts.USERNAME_PATTERN.match(name)


# Roles from groups, on the account.


@pytest.fixture
def lea(app):
    """An account created by single sign-on, in the shifters' group."""
    with app.app_context():
        user = sso.sign_in(sso.Identity(sub="sub-lea", preferred_username="lea", groups=frozenset({"g1"})), ROLE_MAP)
        yield user


ROLE_MAP = {"g1": frozenset({Role.SHIFTER}), "g2": frozenset({Role.SHIFT_LEADER, Role.SHIFTER})}


def test_roles_follow_the_groups_and_hand_granted_roles_stay(app, lea):
    admin = make_user("root", Role.ADMIN)
    accounts.update_account(lea, lea.roles | {Role.ORGANISER, Role.SHIFT_LEADER}, True, by=admin)
    db.session.commit()

    sso.sign_in(sso.Identity(sub="sub-lea", groups=frozenset({"g2"})), ROLE_MAP)
    assert lea.roles == {Role.RESEARCHER, Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER}
    assert lea.group_roles == {Role.SHIFTER}  # shift_leader was granted by hand first, and stays so

    sso.sign_in(sso.Identity(sub="sub-lea", groups=frozenset()), ROLE_MAP)
    assert lea.roles == {Role.RESEARCHER, Role.SHIFT_LEADER, Role.ORGANISER}
    assert lea.group_roles == set()
    changes = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "sso_roles")).scalars().all()
    # The first login granted shifter; the second changed nothing (shift_leader was held by hand); the third
    # took shifter away.
    assert [change.after["roles"] for change in changes] == [
        ["researcher", "shifter"],
        ["organiser", "researcher", "shift_leader"],
    ]
    assert changes[1].before == {
        "roles": ["organiser", "researcher", "shift_leader", "shifter"],
        "from_groups": ["shifter"],
    }


def test_a_role_an_admin_takes_away_comes_back_while_the_group_grants_it(app, lea):
    admin = make_user("root", Role.ADMIN)
    accounts.update_account(lea, {Role.RESEARCHER}, True, by=admin)
    db.session.commit()
    sso.sign_in(sso.Identity(sub="sub-lea", groups=frozenset({"g1"})), ROLE_MAP)
    assert lea.group_roles == {Role.SHIFTER}


def test_an_sso_account_has_no_password_that_logs_in(app, client, auth, lea):
    assert not lea.has_password and not lea.check_password("")
    assert accounts.authenticate("lea", "") is None
    page = auth.login("lea", "anything-at-all").get_data(as_text=True)
    assert "Invalid username or password." in page


def test_groups_claim_values(app):
    assert sso.groups_in(["a", "b", 3]) == {"a", "b"}
    assert sso.groups_in("a") == {"a"}
    assert sso.groups_in(None) == frozenset() and sso.groups_in({"a": 1}) == frozenset()


# The pages.


@pytest.fixture
def sso_app(database_url, tmp_path):
    """The platform with single sign-on configured (the provider is never reached by these tests)."""
    return make_app(database_url, tmp_path, **SETTINGS)


def test_login_offers_sso_when_configured(sso_app):
    page = sso_app.test_client().get("/login?next=/tasks").get_data(as_text=True)
    assert "Log in with SSO" in page
    assert 'href="/login/oidc?next=/tasks"' in page
    assert 'name="password"' in page


def test_an_unreachable_provider_is_said_on_the_login_page(database_url, tmp_path):
    issuer = f"http://127.0.0.1:{free_port()}"
    app = make_app(database_url, tmp_path, **(SETTINGS | {"OIDC_ISSUER": issuer, "OIDC_ALLOW_HTTP": True}))
    answer = app.test_client().get("/login/oidc?next=/tasks")
    assert answer.status_code == 503
    assert "The sign-in service cannot be reached right now" in answer.get_data(as_text=True)


def test_login_without_sso_offers_only_passwords(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Log in with SSO" not in page and 'name="password"' in page
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_password_login_off_hides_the_form_and_refuses_passwords(database_url, tmp_path):
    # No CSRF token to be had without the form: the test posts as a script would.
    app = make_app(database_url, tmp_path, **SETTINGS, PASSWORD_LOGIN=False, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    page = client.get("/login").get_data(as_text=True)
    assert "Log in with SSO" in page
    assert 'name="password"' not in page and ">Register<" not in page
    answer = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert answer.status_code == 403
    assert "Logging in with a password is turned off here" in answer.get_data(as_text=True)
    assert 'data-testid="nav-username"' not in client.get("/").get_data(as_text=True)
    answer = client.get("/register", follow_redirects=True)
    assert "Accounts are created at their first login with SSO." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar_one() == 1


def test_an_sso_account_is_not_offered_a_password_change(app, client, lea):
    with client.session_transaction() as session:
        session["_user_id"] = lea.get_id()
        session["_fresh"] = True
    page = client.get("/").get_data(as_text=True)
    assert "Change password" not in page
    answer = client.get("/account/password", follow_redirects=True)
    assert "Your account logs in with SSO and has no password here." in answer.get_data(as_text=True)


def test_the_admin_page_shows_which_roles_came_from_groups(app, client, auth, lea):
    make_user("root", Role.ADMIN)
    auth.login("root", PASSWORD)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "Shifter (from groups)" in listing and "Researcher (from groups)" not in listing
    page = client.get(f"/admin/users/{lea.id}").get_data(as_text=True)
    assert page.count('data-testid="from-groups"') == 1
    assert "logs in with SSO" in page
