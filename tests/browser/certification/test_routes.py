"""A shifter certifies a run by keyboard alone, a shift leader approves it, the golden JSON follows."""

import pytest
from playwright.sync_api import expect

from app.models import Role
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file
from tests.helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser


def login(page, base, username):
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("nav-username")).to_have_text(username)


def test_keyboard_certification_review_and_golden_json(app, live_server, browser, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315259": [[1, 172]]}')
    with app.app_context():
        import_file(mask, "dcs")
        make_user("sam", Role.SHIFTER)
        make_user("lea", Role.SHIFT_LEADER)
        task_id = create_task("express-2018", "express").id

    shifter = browser.new_context().new_page()
    login(shifter, live_server, "sam")
    shifter.goto(f"{live_server}/tasks/{task_id}/runs/315259")
    expect(shifter.locator("#run-conditions .main-svg").first).to_be_attached()
    keys = shifter.keyboard
    keys.press("b")
    keys.type("5-9 tracking")
    keys.press("Escape")
    keys.press("c")
    keys.type("tracking hole in 5-9")
    keys.press("Escape")
    keys.press("k")
    keys.press("Control+Enter")
    expect(shifter.get_by_role("alert")).to_contain_text("Run 315259 certified")

    leader = browser.new_context().new_page()
    login(leader, live_server, "lea")
    leader.goto(f"{live_server}/tasks/{task_id}/runs/315259")
    expect(leader.get_by_test_id("review-state")).to_have_text("pending")
    leader.keyboard.press("a")
    expect(leader.get_by_test_id("review-state")).to_have_text("approved")

    golden = leader.request.get(f"{live_server}/tasks/{task_id}/golden.json")
    assert golden.text() == '{\n  "315259": [[1, 4], [10, 172]]\n}'
    shifter.context.close()
    leader.context.close()
