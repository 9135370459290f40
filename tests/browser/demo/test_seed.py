"""On the demo, a visitor finds what is live without an account, and a researcher submits with a printed login."""

import pytest
from playwright.sync_api import expect

from demo.competitions import RUNNING

pytestmark = [pytest.mark.browser, pytest.mark.databases("postgresql")]


def test_a_viewer_walks_through_the_demo_and_a_researcher_submits(app, runner, live_server, page, tmp_path):
    seeded = runner.invoke(args=["demo"])
    assert seeded.exit_code == 0, seeded.output
    username, password = next(
        line.split(":")[0].split(" / ") for line in seeded.output.splitlines() if line.strip().startswith("rita ")
    )

    page.goto(live_server + "/")
    expect(page.get_by_test_id("pitch")).to_contain_text("lumisection by lumisection")
    expect(page.get_by_test_id("open-competitions")).to_contain_text("Lumisection anomaly detection")
    expect(page.get_by_test_id("labelling-progress")).to_contain_text("Express 2024 (demo)")
    expect(page.get_by_test_id("recent-scores")).to_contain_text("scored")

    page.get_by_test_id("open-competitions").get_by_role("link", name="Lumisection anomaly detection").click()
    expect(page.get_by_role("heading", name="Lumisection anomaly detection").first).to_be_visible()
    page.get_by_role("link", name="Leaderboard").click()
    board = page.get_by_test_id("leaderboard")
    expect(board).to_contain_text("mia")
    expect(page.locator("#best-over-time .main-svg").first).to_be_attached(timeout=20_000)
    assert "Private" not in board.inner_text()  # the private scores stay hidden while the competition runs
    response = page.goto(f"{live_server}/competitions/{RUNNING}/leaderboard?board=private")
    assert response.status in (403, 404) or "mia" not in page.get_by_test_id("leaderboard").inner_text()

    page.goto(live_server + "/login")
    page.get_by_label("Username").fill(username.strip())
    page.get_by_label("Password").fill(password.strip())
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/competitions/{RUNNING}/data")
    predictions = tmp_path / "predictions.csv"
    with page.expect_download() as download:
        page.get_by_role("link", name="sample_submission_final.csv").click()  # the final phase is open
    download.value.save_as(predictions)
    page.goto(f"{live_server}/competitions/{RUNNING}/submit")
    page.get_by_label("Predictions").set_input_files(str(predictions))
    page.get_by_label("Description").fill("the sample, to see the loop work")
    page.get_by_role("button", name="Submit predictions").click()
    row = page.locator("tr[data-submission]").first
    expect(row.locator('[data-field="status"]')).to_have_text("scored", timeout=30_000)
    # The same text whether the page was rendered after scoring or the status poll filled it in.
    expect(row.locator('[data-field="public_score"]')).to_have_text("0.5")
