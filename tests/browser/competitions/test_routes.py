"""A researcher joins, uploads through the form, watches the score arrive, and sees the leaderboard chart."""

import pytest
from playwright.sync_api import expect

from app.services.competitions.bundles import import_bundle
from tests.helpers import PASSWORD, make_user, predictions_csv, write_bundle

pytestmark = pytest.mark.browser


def test_join_submit_watch_status_and_leaderboard_chart(app, live_server, page, tmp_path):
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_bundle(folder)
        make_user("rita")
    predictions = tmp_path / "predictions.csv"
    predictions.write_bytes(predictions_csv(ids, x))

    page.goto(live_server + "/login")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server + "/competitions")
    page.get_by_role("link", name="Test competition").click()
    page.get_by_role("link", name="Rules").click()
    expect(page.get_by_text("per day; days are counted in UTC")).to_be_visible()
    page.get_by_label("I have read and accept the rules").check()
    page.get_by_role("button", name="Join the competition").click()

    expect(page.get_by_test_id("quota")).to_contain_text("5 submissions left today")
    page.get_by_label("Predictions").set_input_files(str(predictions))
    page.get_by_label("Description").fill("first try")
    page.get_by_role("button", name="Submit predictions").click()

    # The status cell changes by itself: the page polls without being reloaded.
    page.evaluate("window.__notReloaded = true")
    row = page.locator("tr[data-submission]").first
    expect(row.locator('[data-field="status"]')).to_have_text("scored", timeout=20_000)
    expect(row.locator('[data-field="public_score"]')).not_to_be_empty()
    assert page.evaluate("window.__notReloaded") is True

    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("status")).to_have_text("scored")
    expect(page.locator("#curve-roc .main-svg").first).to_be_attached()
    expect(page.locator("#curve-pr .main-svg").first).to_be_attached()

    page.get_by_role("link", name="Test competition").click()
    page.get_by_role("link", name="Leaderboard").click()
    expect(page.get_by_test_id("leaderboard")).to_contain_text("rita")
    expect(page.locator("#best-over-time .main-svg").first).to_be_attached()
