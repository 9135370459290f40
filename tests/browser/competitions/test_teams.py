"""A researcher creates a team on its page, another joins by the invite link, and both see the team ranked."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Competition, User
from app.services.competitions import submissions
from tests.helpers import PASSWORD, add_submission, make_competition, make_user

pytestmark = pytest.mark.browser


def _log_in(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=username)).to_be_visible()


def test_create_a_team_join_by_its_link_and_both_see_it_on_the_leaderboard(app, live_server, page, browser, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 2})
        for name in ("rita", "ravi"):
            submissions.join(competition, make_user(name))
        db.session.commit()

    _log_in(page, live_server, "rita")
    page.goto(live_server + "/competitions/test-comp")
    page.get_by_role("link", name="Team").click()
    page.get_by_label("Team name").fill("Pixel pushers")
    page.get_by_role("button", name="Create the team").click()
    expect(page.get_by_test_id("team-name")).to_have_text("Pixel pushers")
    link = page.get_by_test_id("invite-link").input_value()
    assert "/competitions/test-comp/teams/join/" in link

    other = browser.new_context()
    ravi = other.new_page()
    ravi.set_default_timeout(10_000)
    _log_in(ravi, live_server, "ravi")
    ravi.goto(link)
    ravi.get_by_role("button", name="Join Pixel pushers").click()
    expect(ravi.get_by_test_id("team-members")).to_contain_text("rita")
    expect(ravi.get_by_test_id("team-members")).to_contain_text("ravi")

    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        ravi_user = db.session.execute(db.select(User).where(User.username == "ravi")).scalar_one()
        add_submission(competition, ravi_user, public=0.8)

    for viewer in (page, ravi):
        viewer.goto(live_server + "/competitions/test-comp/leaderboard")
        row = viewer.get_by_test_id("leaderboard").locator("tbody tr").first
        expect(row).to_contain_text("Pixel pushers")
        expect(row.locator('[data-field="members"]')).to_have_text("rita, ravi")
    other.close()
