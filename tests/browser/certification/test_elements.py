"""A shifter reads the run's monitoring elements on the certification page: the trends in view are drawn (the
others when scrolled to), a span selected on a trend goes into the bad ranges, a clicked lumisection shows
beside the reference run's, and ] steps to the next one."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Reco, ReferenceRun, Role, Run, RunClass
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file
from tests.browser.certification.test_routes import login
from tests.helpers import make_user
from tests.unit.certification.monitoring import long_frame, store

pytestmark = pytest.mark.browser

RUN, REFERENCE = 315259, 315100
ELEMENTS = [
    ("PixelPhase1_charge_PXLayer_1", 1),
    ("PixelPhase1_clusterposition_xy_PXDisk_+1", 2),
    *((f"SiStrip_StoN_TIB_layer_{n}", 1) for n in range(1, 4)),
    *((f"Tracking_NumberOfTracks_{n}", 1) for n in range(1, 4)),
]
FIRST = '[data-testid="element"] >> nth=0'


@pytest.fixture
def task_id(app, tmp_path):
    """A task of RUN (60 lumisections, eight elements); REFERENCE, a collisions reference run, holds them too."""
    mask = tmp_path / "dcs.json"
    mask.write_text(f'{{"{RUN}": [[1, 60]]}}')
    with app.app_context():
        import_file(mask, "dcs")
        make_user("sam", Role.SHIFTER)
        store(
            *(
                long_frame(run, name, range(1, 61), dimension=dimension)
                for run in (RUN, REFERENCE)
                for name, dimension in ELEMENTS
            )
        )
        for number in (RUN, REFERENCE):
            db.session.get(Run, number).run_class = RunClass.COLLISIONS
        db.session.add(ReferenceRun(run_number=REFERENCE, reco=Reco.EXPRESS, run_class=RunClass.COLLISIONS))
        db.session.commit()
        return create_task("express-2018", "express").id


def test_shifter_reads_trends_selects_a_span_and_steps_through_lumisections(live_server, page, task_id):
    trends = []
    page.on("request", lambda request: "/trend" in request.url and trends.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 720})
    login(page, live_server, "sam")
    page.goto(f"{live_server}/tasks/{task_id}/runs/{RUN}")

    # The trends in view are drawn: the 1D element's heatmap, the 2D element's summaries.
    first = page.locator(FIRST)
    expect(first.locator('[data-testid="element-trend"] .main-svg').first).to_be_attached()
    expect(first.locator(".heatmaplayer .hm")).to_have_count(1)
    second = page.locator('[data-testid="element"] >> nth=1')
    expect(second.locator('[data-testid="element-trend"] .scatterlayer .trace')).to_have_count(3)  # mean x, y hidden
    # Those far below are fetched only once scrolled to.
    last = page.locator('[data-testid="element"] >> nth=-1')
    expect(last).not_to_have_attribute("data-requested", "true")
    assert len(trends) < len(ELEMENTS)
    last.scroll_into_view_if_needed()
    expect(last.locator('[data-testid="element-trend"] .main-svg').first).to_be_attached()
    assert len(trends) == len(set(trends))  # each once
    first.scroll_into_view_if_needed()

    # Selecting a span on a trend fills the bad ranges as the conditions chart does.
    trend = first.locator('[data-testid="element-trend"]')
    trend.evaluate("chart => chart.emit('plotly_selected', {range: {x: [9.6, 14.4]}})")
    expect(page.locator("#bad_ranges")).to_have_value("10-14")
    box = trend.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    expect(page.locator("#bad_ranges")).to_have_value(re.compile(r"^10-14; \d+-\d+$"))  # dragged on the chart

    # Clicking a lumisection shows it beside the reference run's, in every card in view.
    trend.evaluate("chart => chart.emit('plotly_click', {points: [{x: 20}]})")
    expect(page.get_by_test_id("selected-lumisection")).to_have_text("LS 20")
    label = first.get_by_test_id("reference-label")
    expect(label).to_have_text(f"LS 20 beside reference run {REFERENCE} (task's latest collisions reference)")
    expect(first.locator('[data-testid="element-compare"] .scatterlayer .trace')).to_have_count(2)
    expect(second.locator('[data-testid="element-compare"] .heatmaplayer .hm')).to_have_count(2)

    # ] steps to the next lumisection, marked on every trend drawn; not while typing in a field.
    page.keyboard.press("]")
    expect(page.get_by_test_id("selected-lumisection")).to_have_text("LS 21")
    expect(label).to_have_text(f"LS 21 beside reference run {REFERENCE} (task's latest collisions reference)")
    marked = "chart => chart.layout.shapes.filter(s => s.type === 'line').map(s => s.x0)"
    assert trend.evaluate(marked) == [21]
    page.keyboard.press("[")
    expect(page.get_by_test_id("selected-lumisection")).to_have_text("LS 20")
    # A lumisection clicked on the conditions chart is selected too.
    page.locator("#run-conditions").evaluate("chart => chart.emit('plotly_click', {points: [{x: 33}]})")
    expect(page.get_by_test_id("selected-lumisection")).to_have_text("LS 33")
    expect(label).to_have_text(f"LS 33 beside reference run {REFERENCE} (task's latest collisions reference)")
    # The reference run typed in the form is the chosen one; keys typed in a field stay there.
    page.locator("#reference_run").fill(str(REFERENCE))
    page.locator("#comment").focus()
    page.keyboard.press("]")
    expect(page.locator("#comment")).to_have_value("]")
    expect(page.get_by_test_id("selected-lumisection")).to_have_text("LS 33")
    page.keyboard.press("Escape")
    first.scroll_into_view_if_needed()  # the form is further down: only the elements in view follow
    page.keyboard.press("]")
    expect(page.get_by_test_id("selected-lumisection")).to_have_text("LS 34")
    expect(label).to_have_text(f"LS 34 beside reference run {REFERENCE} (chosen)")
