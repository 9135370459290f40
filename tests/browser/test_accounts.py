"""A person registers and logs in through the real pages in Chromium."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_register_then_log_in_shows_the_name_in_the_navigation(live_server, page):
    page.goto(live_server + "/register")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("E-mail (optional)").fill("alice@example.org")
    page.get_by_label("Password", exact=True).fill("a-long-password")
    page.get_by_label("Repeat password").fill("a-long-password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("nav-username")).to_have_text("alice")

    page.get_by_test_id("nav-username").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_test_id("nav-username")).to_have_count(0)

    page.goto(live_server + "/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid username or password.")

    page.get_by_label("Password").fill("a-long-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("nav-username")).to_have_text("alice")
