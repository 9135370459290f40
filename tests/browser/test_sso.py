"""A shifter logs in with SSO in Chromium, through a stand-in OpenID Connect provider, and lands on the task list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file
from tests.conftest import make_app
from tests.fakes.oidc_provider import OidcProvider

pytestmark = pytest.mark.browser


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """The identity provider, logging in Sam of the shifters' group."""
    provider = OidcProvider()
    provider.user = {"sub": "8d1e-sam", "preferred_username": "sam", "email": "sam@example.org", "groups": ["shifters"]}
    yield provider
    provider.stop()


@pytest.fixture
def app(database_url, tmp_path, provider):
    """The platform with single sign-on through the provider, shifters' group mapped to the shifter role."""
    app = make_app(
        database_url,
        tmp_path,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=provider.client_id,
        OIDC_CLIENT_SECRET=provider.client_secret,
        OIDC_ALLOW_HTTP=True,
        OIDC_ROLE_MAP="shifters=shifter",
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_log_in_with_sso_takes_a_shifter_to_the_task_list(app, live_server, page, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315259": [[1, 172]]}')
    with app.app_context():
        import_file(mask, "dcs")
        create_task("express-2018", "express")

    page.goto(live_server + "/tasks")
    page.get_by_role("link", name="Log in with SSO").click()
    expect(page.get_by_role("heading", name="Labelling tasks")).to_be_visible()
    assert page.url == live_server + "/tasks"
    expect(page.get_by_role("link", name="express-2018")).to_be_visible()
    expect(page.get_by_test_id("nav-username")).to_have_text("sam")
