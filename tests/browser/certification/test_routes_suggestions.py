"""A shifter certifies with a model's suggestions: the score track is drawn, s accepts the source's ranges and
the certification keeps where they came from; on a blind run nothing of the models shows until certified."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import BadRange, Certification, LabellingTask, RangeOrigin, Role
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file
from app.services.suggestions import blind
from tests.browser.certification.test_routes import login
from tests.helpers import make_user
from tests.unit.suggestions.tasks import add_source

pytestmark = pytest.mark.browser

RUN = 315259


def _task(app, tmp_path, *, blind_run: bool) -> tuple[int, int]:
    """A task of one run of 172 lumisections, blind or not, with a source suggesting 10-14 and 100-101."""
    mask = tmp_path / "dcs.json"
    mask.write_text(f'{{"{RUN}": [[1, 172]]}}')
    with app.app_context():
        import_file(mask, "dcs")
        make_user("sam", Role.SHIFTER)
        task = create_task("express-2018", "express")
        task.blind_fraction = 0.5
        task.blind_seed = next(s for s in range(1000) if blind.is_blind(s, RUN, 0.5) is blind_run)
        db.session.commit()
        scores = {RUN: {n: (0.9 if 10 <= n <= 14 or 100 <= n <= 101 else 0.1) for n in range(1, 173)}}
        return task.id, add_source(task, scores, threshold=0.5).id


def _certify(page) -> None:
    keys = page.keyboard
    keys.press("Escape")
    keys.press("c")
    keys.type("as the model says")
    keys.press("Escape")
    keys.press("k")
    keys.press("Control+Enter")


def test_shifter_accepts_suggestions_with_s(app, live_server, page, tmp_path):
    task_id, source_id = _task(app, tmp_path, blind_run=False)
    login(page, live_server, "sam")
    page.goto(f"{live_server}/tasks/{task_id}/runs/{RUN}")
    expect(page.locator("#suggestion-scores .main-svg").first).to_be_attached()
    expect(page.locator("#suggestion-scores .scatterlayer .trace")).to_have_count(1)
    page.keyboard.press("s")
    expect(page.locator("#bad_ranges")).to_have_value("10-14; 100-101")
    page.locator("#bad_ranges").fill("10-14; 100-103; 150-151")  # keeps one, widens one, adds one
    _certify(page)
    expect(page.get_by_role("alert")).to_contain_text(f"Run {RUN} certified")
    with app.app_context():
        ranges = db.session.execute(db.select(BadRange).order_by(BadRange.first)).scalars().all()
        assert [(r.first, r.last, r.origin, r.source_id) for r in ranges] == [
            (10, 14, RangeOrigin.SUGGESTED, source_id),
            (100, 103, RangeOrigin.SUGGESTED_EDITED, source_id),
            (150, 151, RangeOrigin.MANUAL, None),
        ]


def test_blind_run_shows_no_score_until_certified(app, live_server, page, tmp_path):
    task_id, _ = _task(app, tmp_path, blind_run=True)
    login(page, live_server, "sam")
    page.goto(f"{live_server}/tasks/{task_id}/runs/{RUN}")
    expect(page.locator("#run-conditions .main-svg").first).to_be_attached()
    expect(page.get_by_test_id("blind-run")).to_be_visible()
    expect(page.locator("#suggestion-scores")).to_have_count(0)
    page.keyboard.press("s")
    expect(page.locator("#bad_ranges")).to_have_value("")
    _certify(page)
    expect(page.get_by_role("alert")).to_contain_text(f"Run {RUN} certified")
    page.goto(f"{live_server}/tasks/{task_id}/runs/{RUN}")
    expect(page.get_by_test_id("revealed")).to_be_visible()
    expect(page.locator("#suggestion-scores .main-svg").first).to_be_attached()
    with app.app_context():
        certification = db.session.execute(db.select(Certification)).scalar_one()
        assert db.session.get(LabellingTask, task_id).blind_fraction == 0.5
        assert certification.blind
