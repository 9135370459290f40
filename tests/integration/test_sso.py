"""Single sign-on over HTTP: the platform served on loopback logs people in through a stand-in OpenID Connect
provider (tests/fakes/oidc_provider.py), with logins in flight kept in Redis, accounts in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask

from app import create_app
from app.extensions import db
from app.models import AuditEntry, Role, User
from app.services import accounts
from config import Config
from tests import services
from tests.fakes.oidc_provider import OidcProvider, signing_key
from tests.helpers import make_user

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]

ROLE_MAP = "dqm-shifters=shifter,dqm-shift-leaders=shift_leader,dqm-shift-leaders=shifter"
SUB = "f3c2a9e0-5b1d-4a77-9d0e-2c1b7e8a9f10"


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """The identity provider, logging in Lea of the shifters' group."""
    provider = OidcProvider()
    provider.user = {"sub": SUB, "preferred_username": "lea", "email": "lea@example.org", "groups": ["dqm-shifters"]}
    yield provider
    provider.stop()


@pytest.fixture
def app(database_url, tmp_path, provider) -> Iterator[Flask]:
    """The platform with single sign-on through the provider, its cache (and so logins in flight) in Redis."""
    config = Config(
        {
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "STORAGE_URL": f"file://{tmp_path}/storage",
            "REDIS_URL": services.redis_url(),
            "OIDC_ISSUER": provider.issuer,
            "OIDC_CLIENT_ID": provider.client_id,
            "OIDC_CLIENT_SECRET": provider.client_secret,
            "OIDC_ALLOW_HTTP": "true",
            "OIDC_ROLE_MAP": ROLE_MAP,
        }
    )
    app = create_app(config, TESTING=True, RATELIMIT_ENABLED=False, REAPER_INTERVAL=0)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def site(app) -> Iterator[str]:
    """The platform served over HTTP on loopback."""
    url, stop = services.serve(app)
    yield url
    stop()


def logged_in_as(browser: requests.Session, site: str) -> str | None:
    """The username the navigation shows to this browser, or None when it is logged out."""
    page = browser.get(site + "/").text
    marker = 'data-testid="nav-username">'
    return page.split(marker, 1)[1].split("<", 1)[0] if marker in page else None


def sso_login(site: str, browser: requests.Session | None = None, next: str = "/tasks") -> requests.Response:
    """Follow "Log in with SSO" through the provider and back, as a browser does."""
    browser = browser or requests.Session()
    return browser.get(f"{site}/login/oidc", params={"next": next}, timeout=30)


def log_out(browser: requests.Session, site: str) -> None:
    """Press the navigation's "Log out"."""
    page = browser.get(site + "/").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    browser.post(site + "/logout", data={"csrf_token": token})


def account(app: Flask, sub: str = SUB) -> User | None:
    """The account of the provider's user, roles loaded."""
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.oidc_sub == sub)).scalar_one_or_none()
        if user is not None:
            user.roles, user.group_roles  # noqa: B018  (loaded before the session closes)
        return user


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(User.id))).scalar_one()


def test_first_login_creates_the_account_with_the_mapped_roles(app, site, provider):
    browser = requests.Session()
    answer = sso_login(site, browser)
    assert answer.status_code == 200
    assert answer.url == site + "/tasks"
    assert "Labelling tasks" in answer.text
    assert logged_in_as(browser, site) == "lea"

    user = account(app)
    assert user is not None and user.username == "lea" and user.email == "lea@example.org"
    assert user.roles == {Role.RESEARCHER, Role.SHIFTER}
    assert user.group_roles == {Role.SHIFTER}
    assert not user.has_password
    with app.app_context():
        actions = db.session.execute(
            db.select(AuditEntry.action).where(AuditEntry.entity == "user", AuditEntry.entity_id == user.id)
        ).scalars()
        assert sorted(actions) == ["sso_account_create", "sso_roles"]


def test_next_leads_only_to_pages_of_the_platform(app, site, provider):
    assert sso_login(site, next="https://elsewhere.example.org/tasks").url == site + "/"


def test_a_later_login_with_fewer_groups_removes_the_mapped_role_and_keeps_a_hand_granted_one(app, site, provider):
    provider.user["groups"] = ["dqm-shifters", "dqm-shift-leaders", "cms-members"]
    browser = requests.Session()
    sso_login(site, browser)
    assert account(app).roles == {Role.RESEARCHER, Role.SHIFTER, Role.SHIFT_LEADER}
    with app.app_context():
        admin = make_user("root", Role.ADMIN)
        lea = db.session.execute(db.select(User).where(User.oidc_sub == SUB)).scalar_one()
        accounts.update_account(lea, lea.roles | {Role.ORGANISER}, True, by=admin)
        db.session.commit()
    log_out(browser, site)

    # The provider now knows her by another name: the account is found by `sub`, not by name.
    provider.user |= {"preferred_username": "lea.b", "groups": ["dqm-shifters"]}
    sso_login(site, browser)
    assert logged_in_as(browser, site) == "lea"
    user = account(app)
    assert user.roles == {Role.RESEARCHER, Role.SHIFTER, Role.ORGANISER}
    assert user.group_roles == {Role.SHIFTER}
    assert user_count(app) == 2
    with app.app_context():
        change = db.session.execute(
            db.select(AuditEntry).where(AuditEntry.action == "sso_roles").order_by(AuditEntry.id.desc()).limit(1)
        ).scalar_one()
        assert change.before["roles"] == ["organiser", "researcher", "shift_leader", "shifter"]
        assert change.after["roles"] == ["organiser", "researcher", "shifter"]
        assert change.after["from_groups"] == ["shifter"]
        assert change.after["groups"] == ["dqm-shifters"]


def test_a_login_with_unchanged_groups_writes_nothing_to_the_audit_log(app, site, provider):
    browser = requests.Session()
    sso_login(site, browser)
    log_out(browser, site)
    sso_login(site, browser)
    with app.app_context():
        count = db.session.execute(
            db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "sso_roles")
        ).scalar_one()
    assert count == 1


def test_groups_missing_from_the_id_token_are_read_from_userinfo(app, site, provider):
    provider.groups_in_id_token = False
    provider.user["groups"] = ["dqm-shift-leaders"]
    sso_login(site)
    assert account(app).group_roles == {Role.SHIFTER, Role.SHIFT_LEADER}


def test_a_taken_username_gets_a_number(app, site, provider):
    with app.app_context():
        make_user("Lea", Role.RESEARCHER, email="lea@example.org")
    browser = requests.Session()
    sso_login(site, browser)
    assert logged_in_as(browser, site) == "lea-2"
    user = account(app)
    # The e-mail address belongs to the local account: never linked by address, left empty here.
    assert user.username == "lea-2" and user.email is None


def test_logout_ends_every_copy_of_the_session_of_an_sso_login(app, site, provider):
    browser = requests.Session()
    sso_login(site, browser)
    copy = requests.Session()
    copy.cookies.update(browser.cookies)
    assert logged_in_as(copy, site) == "lea"
    log_out(browser, site)
    assert logged_in_as(copy, site) is None


def test_a_deactivated_account_is_not_logged_in(app, site, provider):
    sso_login(site)
    with app.app_context():
        lea = db.session.execute(db.select(User).where(User.oidc_sub == SUB)).scalar_one()
        lea.active = False
        db.session.commit()
    browser = requests.Session()
    answer = sso_login(site, browser)
    assert answer.status_code == 403
    assert "This account is deactivated" in answer.text
    assert logged_in_as(browser, site) is None


SPOILED = {
    "a wrong nonce": ({"nonce": "not-the-nonce-of-this-login"}, "does not belong to this login"),
    "a token signed by another key": ({"key": signing_key()}, "is not signed with the sign-in service"),
    "a key the provider does not publish": ({"key": signing_key("unknown-key")}, "is not signed with"),
    "an expired token": ({"exp": 1_000_000_000, "iat": 999_999_000}, "has expired"),
    "a wrong audience": ({"aud": "another-application"}, "was issued for another application"),
    "a wrong issuer": ({"iss": "https://impostor.example.org"}, "was issued by another provider"),
}


@pytest.mark.parametrize("spoiled", SPOILED, ids=list(SPOILED))
def test_an_id_token_that_fails_verification_logs_nobody_in(app, site, provider, spoiled):
    tamper, reason = SPOILED[spoiled]
    provider.tamper = tamper
    browser = requests.Session()
    answer = sso_login(site, browser)
    assert answer.status_code == 400
    assert answer.url.startswith(site + "/login/oidc/callback")
    assert "Single sign-on failed" in answer.text and reason in answer.text
    assert "Log in with SSO" in answer.text
    assert logged_in_as(browser, site) is None
    assert user_count(app) == 0


def test_a_replayed_state_logs_nobody_in(app, site, provider):
    browser = requests.Session()
    to_provider = browser.get(f"{site}/login/oidc", params={"next": "/tasks"}, allow_redirects=False)
    back = requests.get(to_provider.headers["Location"], allow_redirects=False)
    callback = urljoin(site, back.headers["Location"])
    before_callback = dict(browser.cookies)
    assert browser.get(callback).url == site + "/tasks"
    assert len(provider.token_requests) == 1

    # An eavesdropper with the callback's address and a copy of the cookies from before it.
    replay = requests.Session()
    replay.cookies.update(before_callback)
    answer = replay.get(callback)
    assert answer.status_code == 400
    assert "was already used" in answer.text
    assert logged_in_as(replay, site) is None
    assert len(provider.token_requests) == 1  # refused before the provider was asked for a token

    # The same browser, after logging out, gets nowhere with it either.
    log_out(browser, site)
    assert "was already used" in browser.get(callback).text
    assert logged_in_as(browser, site) is None


def test_a_provider_that_refuses_the_login_shows_its_reason(app, site):
    browser = requests.Session()
    answer = browser.get(site + "/login/oidc/callback", params={"error": "access_denied", "state": "x"})
    assert answer.status_code == 400
    assert "Single sign-on failed" in answer.text
    assert logged_in_as(browser, site) is None
