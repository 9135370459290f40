"""A shift leader sees the Run Registry beside the certifications: the task page's RR column, and on a run's page
RR's ranges with the lumisections where RR and the certification disagree marked."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import BadRange, ReviewState, Role, RrRange
from tests.browser.certification.test_routes import login
from tests.helpers import make_user
from tests.unit.suggestions.tasks import certify, make_task

pytestmark = pytest.mark.browser


def test_the_rr_column_and_the_disagreement_marks(app, live_server, page):
    with app.app_context():
        task = make_task({378856: range(1, 164), 378960: range(1, 59), 378981: range(1, 21)})
        lea = make_user("lea", Role.SHIFT_LEADER)
        db.session.add_all(
            RrRange(run_number=run, dataset_name="online", component=component, first=a, last=b, status=status)
            for run, component, a, b, status in [
                (378856, "tracker-pixel", 1, 120, "GOOD"),
                (378856, "tracker-pixel", 121, 140, "BAD"),
                (378856, "tracker-pixel", 141, 163, "GOOD"),
                (378856, "tracker-track", 1, 163, "GOOD"),
                (378960, "tracker-strip", 1, 58, "GOOD"),
            ]
        )
        differs = certify(task, 378856, lea, review_state=ReviewState.APPROVED, comment="tracking hole")
        differs.bad_ranges = [BadRange(first=150, last=163, components=["tracking"], comment="tracking hole")]
        certify(task, 378960, lea)
        db.session.commit()
        task_id = task.id

    login(page, live_server, "lea")
    page.goto(f"{live_server}/tasks/{task_id}")
    expect(page.get_by_role("columnheader", name="RR", exact=True)).to_be_visible()
    expect(page.get_by_test_id("rr-verdict")).to_have_text(["differs", "agrees", "not in RR"])

    page.get_by_role("link", name="378856").click()
    expect(page.get_by_test_id("rr-comparison").get_by_test_id("rr-verdict")).to_have_text("differs")
    pixel = page.locator('[data-testid="rr-component"][data-component="tracker-pixel"]')
    expect(pixel.get_by_test_id("rr-disagreement")).to_have_text(["121-140: good here, BAD in RR"])
    expect(pixel.locator(".rr-marked")).to_have_text(["121-140 BAD"])
    track = page.locator('[data-testid="rr-component"][data-component="tracker-track"]')
    expect(track.get_by_test_id("rr-disagreement")).to_have_text(["150-163: bad here, GOOD in RR"])
    strip = page.locator('[data-testid="rr-component"][data-component="tracker-strip"]')
    expect(strip).to_contain_text("none")
    expect(strip.get_by_test_id("rr-disagreement")).to_have_count(0)
