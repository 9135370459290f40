"""The certification pages: a shifter certifies through the form, a shift leader reviews, roles hold."""

from __future__ import annotations

import html
import json

import pytest

from app.extensions import db
from app.models import Certification, Role
from app.models.certification import DEFAULT_CHECKLISTS
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file, import_oms
from tests.helpers import PASSWORD, make_user

RUN = 315259
EVERY_ITEM = [f"{group['name']}/{i}" for group in DEFAULT_CHECKLISTS for i in range(len(group["items"]))]


@pytest.fixture
def task_id(app, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]]}')
    with app.app_context():
        import_file(mask, "dcs")
        for name, role in [
            ("sam", Role.SHIFTER),
            ("lea", Role.SHIFT_LEADER),
            ("olga", Role.ORGANISER),
            ("rita", Role.RESEARCHER),
        ]:
            make_user(name, role)
        return create_task("express-2018", "express").id


def form(auth, task_id, **changes):
    data = {
        "pixel": "good",
        "strip": "good",
        "tracking": "good",
        "bad_ranges": "5-9 tracking",
        "trackermap": "exists",
        "comment": "tracking hole",
        "checklist": EVERY_ITEM,
        "submit": "Certify",
        "csrf_token": auth.csrf_token(f"/tasks/{task_id}/runs/{RUN}"),
    }
    return data | changes


def test_shifter_certifies_through_the_form(app, client, auth, task_id):
    auth.login("sam", PASSWORD)
    assert "express-2018" in client.get("/tasks").get_data(as_text=True)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Certify next run (315257)" in page
    response = client.post(f"/tasks/{task_id}/runs/{RUN}", data=form(auth, task_id))
    assert response.status_code == 302
    with app.app_context():
        certification = db.session.execute(db.select(Certification)).scalar_one()
        assert [(r.first, r.last, r.components) for r in certification.bad_ranges] == [(5, 9, ["tracking"])]
        assert certification.checklist == {"general": True, "pixel": True, "strip": True, "tracking": True}


def test_certify_and_open_next_goes_to_the_next_run(client, auth, task_id):
    auth.login("sam", PASSWORD)
    data = form(auth, task_id, submit_next="Certify and open next")
    data.pop("submit")
    response = client.post(f"/tasks/{task_id}/runs/{RUN}", data=data)
    assert response.headers["Location"] == f"/tasks/{task_id}/runs/315257"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"checklist": [item for item in EVERY_ITEM if item != "strip/1"]}, "strip not ticked"),
        ({"bad_ranges": "five to nine"}, "FIRST-LAST"),
        ({"comment": ""}, "needs a comment"),
        ({"strip": "bad"}, "tracking cannot be good when strip is bad"),
    ],
)
def test_rule_violations_are_shown_and_nothing_is_saved(app, client, auth, task_id, changes, message):
    auth.login("sam", PASSWORD)
    response = client.post(f"/tasks/{task_id}/runs/{RUN}", data=form(auth, task_id, **changes))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(Certification)).first() is None


def test_shift_leader_approves_and_the_golden_json_follows(client, auth, task_id):
    auth.login("sam", PASSWORD)
    client.post(f"/tasks/{task_id}/runs/{RUN}", data=form(auth, task_id))
    auth.logout()
    auth.login("lea", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert "Approve" in page and "5-9 (tracking)" in page
    token = auth.csrf_token(f"/tasks/{task_id}/runs/{RUN}")
    certification_id = 1
    client.post(f"/certifications/{certification_id}/review", data={"approve": "Approve", "csrf_token": token})
    assert 'data-testid="review-state">approved' in client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert client.get(f"/tasks/{task_id}/golden.json").get_data(as_text=True) == '{\n  "315259": [[1, 4], [10, 172]]\n}'


def test_a_shifter_cannot_review_and_a_researcher_sees_no_task(client, auth, task_id):
    auth.login("rita", PASSWORD)
    assert client.get("/tasks").status_code == 403
    assert client.get(f"/tasks/{task_id}/runs/{RUN}").status_code == 403
    auth.logout()
    auth.login("sam", PASSWORD)
    client.post(f"/tasks/{task_id}/runs/{RUN}", data=form(auth, task_id))
    token = auth.csrf_token(f"/tasks/{task_id}/runs/{RUN}")
    assert client.post("/certifications/1/review", data={"approve": "Approve", "csrf_token": token}).status_code == 403


def test_an_organiser_sees_the_run_but_no_form(client, auth, task_id):
    auth.login("olga", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert "Run 315259" in page and 'id="certify-form"' not in page and "Not certified yet." in page


def test_opening_a_run_claims_it_so_the_next_shifter_is_sent_elsewhere(app, client, auth, task_id):
    with app.app_context():
        make_user("sue", Role.SHIFTER)
    auth.login("sam", PASSWORD)
    assert 'data-testid="claimed"' not in client.get(f"/tasks/{task_id}/runs/315257").get_data(as_text=True)
    auth.logout()
    auth.login("sue", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/315257").get_data(as_text=True)
    assert 'data-testid="claimed">sam is working on this run until' in page
    assert "Certify next run (315259)" in client.get(f"/tasks/{task_id}").get_data(as_text=True)


def test_an_expired_claim_frees_the_run(app, client, auth, task_id):
    from datetime import timedelta

    from app.models import RunClaim
    from app.models.types import utcnow

    auth.login("sam", PASSWORD)
    client.get(f"/tasks/{task_id}/runs/315257")
    with app.app_context():
        claim = db.session.execute(db.select(RunClaim)).scalar_one()
        claim.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        make_user("sue", Role.SHIFTER)
    auth.logout()
    auth.login("sue", PASSWORD)
    assert 'data-testid="claimed"' not in client.get(f"/tasks/{task_id}/runs/315257").get_data(as_text=True)


def test_run_page_lists_its_certifications_across_tasks(client, auth, task_id):
    auth.login("sam", PASSWORD)
    page = client.get(f"/runs/{RUN}").get_data(as_text=True)
    assert "Run 315259" in page and "Not certified yet: in" in page and "express-2018" in page
    client.post(f"/tasks/{task_id}/runs/{RUN}", data=form(auth, task_id))
    page = client.get(f"/runs/{RUN}").get_data(as_text=True)
    assert "5-9" in page and ">sam<" in page and "pending" in page
    assert client.get("/runs/1").status_code == 404


def _figure(page: str) -> dict:
    """The Plotly figure a page hands to its conditions chart."""
    start = page.index("data-figure='", page.index('id="run-conditions"')) + len("data-figure='")
    return json.loads(html.unescape(page[start : page.index("'", start)]))


def test_pages_show_luminosity_with_its_unit(app, client, auth, task_id):
    """Runs record pb⁻¹ in OMS; the task, run and certification pages show 12.3 nb⁻¹, the chart's axis nb⁻¹."""
    with app.app_context():
        import_oms(
            {
                "run_number": [RUN] * 3,
                "lumisection_number": [1, 2, 3],
                "recorded_lumi_per_lumisection": [0.004, 0.0053, 0.003],
            }
        )
    auth.login("sam", PASSWORD)
    task_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert '<td class="text-end text-nowrap">12.3 nb⁻¹</td>' in task_page
    for url in (f"/runs/{RUN}", f"/tasks/{task_id}/runs/{RUN}"):
        page = client.get(url).get_data(as_text=True)
        assert '<dt class="col-sm-2">Recorded luminosity</dt><dd class="col-sm-2">12.3 nb⁻¹</dd>' in page, url
        figure = _figure(page)
        assert figure["layout"]["yaxis"]["title"]["text"] == "recorded luminosity (nb⁻¹)"
        assert figure["data"][0]["y"][:3] == [4.0, 5.3, 3.0]


def test_a_shift_leader_is_not_offered_to_approve_their_own_certification(app, client, auth, task_id):
    with app.app_context():
        make_user("leo", Role.SHIFT_LEADER, Role.SHIFTER)
    auth.login("leo", PASSWORD)
    assert client.post(f"/tasks/{task_id}/runs/{RUN}", data=form(auth, task_id)).status_code == 302
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert 'data-testid="own-certification"' in page and 'name="approve"' not in page
    queue = client.get("/reviews").get_data(as_text=True)
    assert "another shift leader reviews it" in queue and 'name="approve"' not in queue
    token = auth.csrf_token(f"/tasks/{task_id}/runs/{RUN}")
    client.post("/certifications/1/review", data={"approve": "Approve", "csrf_token": token})
    refused = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert 'data-testid="review-state">pending' in refused and "you certified or changed this run yourself" in refused
    auth.logout()
    auth.login("lea", PASSWORD)
    assert 'name="approve"' in client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
