"""The leaderboard of a competition in phases: a tab per phase, each switching to its own boards."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.models.types import utcnow
from app.services.competitions.bundles import import_bundle
from tests.helpers import add_submission, make_user, write_phased_bundle

pytestmark = pytest.mark.browser


def test_phase_tabs_switch_boards(app, live_server, page, tmp_path):
    now = utcnow()
    spec = {"opens_at": (now - timedelta(days=10)).isoformat()}
    folder, *_ = write_phased_bundle(tmp_path / "bundle", dev_closes=(now - timedelta(days=1)).isoformat(), spec=spec)
    with app.app_context():
        competition = import_bundle(folder)
        development, final = competition.phases
        add_submission(competition, make_user("rita"), public=0.81, private=0.79, at=now - timedelta(days=3),
                       phase=development)  # fmt: skip
        add_submission(competition, make_user("ravi"), public=0.64, private=0.66, phase=final)

    page.goto(f"{live_server}/competitions/test-comp/leaderboard")
    tabs = page.get_by_test_id("phase-tabs")
    board = page.get_by_test_id("leaderboard")
    expect(tabs.locator(".nav-link.active")).to_contain_text("final")  # the current phase by default
    expect(board).to_contain_text("ravi")
    expect(board).not_to_contain_text("rita")
    expect(page.get_by_text("Private (after the phase closes)")).to_be_visible()

    tabs.get_by_role("link", name="development").click()
    expect(tabs.locator(".nav-link.active")).to_contain_text("development")
    expect(board).to_contain_text("rita")
    expect(board).to_contain_text("0.81")
    expect(board).not_to_contain_text("ravi")
    page.get_by_role("link", name="Private").click()  # the development phase closed: its private board is out
    assert "phase=development" in page.url and "board=private" in page.url
    expect(page.get_by_test_id("leaderboard")).to_contain_text("0.79")

    page.get_by_test_id("phase-tabs").get_by_role("link", name="final").click()
    expect(page.get_by_test_id("leaderboard")).to_contain_text("ravi")
    expect(page.get_by_test_id("leaderboard")).not_to_contain_text("rita")
