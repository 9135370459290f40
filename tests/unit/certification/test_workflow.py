"""The shift workflow around a certification: checklists shift leaders write, problem categories and the bad
reason, changing a certification from its page, rejections going back to the certifier, the review queue."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AuditEntry, Certification, LabellingTask, ReviewState, Role, User
from app.models.certification import DEFAULT_CHECKLISTS
from app.services.certification.tasks import create_task, parse_checklists
from app.services.errors import Refused
from app.services.runs.importer import import_file
from tests.helpers import PASSWORD, bearer, make_token, make_user

RUN = 315259
EVERY_ITEM = [f"{group['name']}/{i}" for group in DEFAULT_CHECKLISTS for i in range(len(group["items"]))]
pytestmark = pytest.mark.databases("sqlite", "postgresql")


@pytest.fixture
def task_id(app, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
        for name, role in [("sam", Role.SHIFTER), ("sue", Role.SHIFTER), ("lea", Role.SHIFT_LEADER)]:
            make_user(name, role)
        return create_task("express-2018", "express").id


def certify_form(auth, task_id, run=RUN, **changes) -> dict:
    data = {
        "pixel": "good",
        "strip": "good",
        "tracking": "bad",
        "bad_ranges": "5-9 tracking",
        "trackermap": "exists",
        "problem_categories": ["tracking_efficiency", "daq_errors"],
        "bad_reason": "FED errors in TIB",
        "comment": "tracking hole",
        "checklist": EVERY_ITEM,
        "submit": "Certify",
        "csrf_token": auth.csrf_token(f"/tasks/{task_id}/runs/{run}"),
    }
    return data | changes


def only_certification(app) -> Certification:
    with app.app_context():
        certification = db.session.execute(
            db.select(Certification).options(selectinload(Certification.bad_ranges))
        ).scalar_one()
        db.session.expunge(certification)
        return certification


def _user(username: str) -> User:
    return db.session.execute(db.select(User).where(User.username == username)).scalar_one()


def test_problem_categories_and_bad_reason_are_recorded_and_shown(app, client, auth, task_id):
    auth.login("sam", PASSWORD)
    assert client.post(f"/tasks/{task_id}/runs/{RUN}", data=certify_form(auth, task_id)).status_code == 302
    certification = only_certification(app)
    assert certification.problem_categories == ["daq_errors", "tracking_efficiency"]
    assert certification.bad_reason == "FED errors in TIB"
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert "DAQ or FED errors" in page and "Bad reason: FED errors in TIB" in page


def test_an_unknown_problem_category_is_refused_by_the_api(app, client, task_id):
    with app.app_context():
        token = make_token(_user("sam"))
    body = {
        "run_number": RUN,
        "pixel": "good",
        "strip": "good",
        "tracking": "good",
        "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
        "problem_categories": ["gremlins"],
    }
    response = client.post(f"/api/v1/tasks/{task_id}/certifications", headers=bearer(token), json=body)
    assert response.status_code == 400 and "problem_categories" in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.execute(db.select(Certification)).first() is None


def test_the_certifier_changes_a_certification_from_its_page(app, client, auth, task_id):
    auth.login("sam", PASSWORD)
    client.post(f"/tasks/{task_id}/runs/{RUN}", data=certify_form(auth, task_id))
    certification = only_certification(app)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}?edit={certification.id}").get_data(as_text=True)
    assert 'id="certify-form"' in page and 'value="5-9 tracking"' in page and "FED errors in TIB" in page
    assert page.count('name="checklist"') == page.count('name="checklist" value') == len(EVERY_ITEM)
    assert page.count(" checked>") >= len(EVERY_ITEM)  # the ticked checklists stay ticked
    data = certify_form(auth, task_id, bad_ranges="5-12 tracking", editing=str(certification.id))
    response = client.post(f"/tasks/{task_id}/runs/{RUN}", data=data)
    assert response.status_code == 302
    changed = only_certification(app)
    assert [(r.first, r.last) for r in changed.bad_ranges] == [(5, 12)]
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "edit")).scalar_one()
        assert entry.before["bad_lumisections"][0]["last"] == 9 and entry.after["bad_lumisections"][0]["last"] == 12


def test_another_shifter_cannot_change_it(app, client, auth, task_id):
    auth.login("sam", PASSWORD)
    client.post(f"/tasks/{task_id}/runs/{RUN}", data=certify_form(auth, task_id))
    certification = only_certification(app)
    auth.logout()
    auth.login("sue", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}?edit={certification.id}").get_data(as_text=True)
    assert 'id="certify-form"' not in page and ">Change<" not in page
    data = certify_form(auth, task_id, bad_ranges="1-100", editing=str(certification.id))
    assert client.post(f"/tasks/{task_id}/runs/{RUN}", data=data).status_code == 403
    assert [(r.first, r.last) for r in only_certification(app).bad_ranges] == [(5, 9)]


def test_a_rejection_goes_back_to_the_certifier_who_fixes_it(app, client, auth, task_id):
    auth.login("sam", PASSWORD)
    client.post(f"/tasks/{task_id}/runs/{RUN}", data=certify_form(auth, task_id))
    certification_id = only_certification(app).id
    auth.logout()
    auth.login("lea", PASSWORD)
    queue = client.get("/reviews").get_data(as_text=True)
    assert f'data-testid="pending-{certification_id}"' in queue
    token = auth.csrf_token("/reviews")
    refused = client.post(
        f"/certifications/{certification_id}/review?next=queue", data={"reject": "Reject", "csrf_token": token}
    )
    assert refused.status_code == 302 and only_certification(app).review_state is ReviewState.PENDING  # no comment
    rejected = client.post(
        f"/certifications/{certification_id}/review?next=queue",
        data={"reject": "Reject", "comment": "the hole goes on to 12", "csrf_token": token},
    )
    assert rejected.headers["Location"] == "/reviews"
    assert f"pending-{certification_id}" not in client.get("/reviews").get_data(as_text=True)
    auth.logout()

    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-testid="returned"' in page and "the hole goes on to 12" in page
    assert f"Certify next run ({RUN})" in page  # the run sent back comes first in the queue
    data = certify_form(auth, task_id, bad_ranges="5-12 tracking", editing=str(certification_id))
    client.post(f"/tasks/{task_id}/runs/{RUN}", data=data)
    assert only_certification(app).review_state is ReviewState.PENDING
    assert 'data-testid="returned"' not in client.get(f"/tasks/{task_id}").get_data(as_text=True)
    auth.logout()
    auth.login("lea", PASSWORD)
    assert f'data-testid="pending-{certification_id}"' in client.get("/reviews").get_data(as_text=True)


def test_a_shifter_has_no_review_queue(client, auth, task_id):
    auth.login("sam", PASSWORD)
    assert client.get("/reviews").status_code == 403


def test_a_shift_leader_rewrites_the_checklists_and_certifications_tick_the_new_ones(app, client, auth, task_id):
    auth.login("lea", PASSWORD)
    page = client.get(f"/tasks/{task_id}/checklists").get_data(as_text=True)
    assert "- Signal-to-noise peak in place" in page
    text = "general\n- e-log read\nbeamspot\n- beam spot position stable\n- no vertex drift\n"
    token = auth.csrf_token(f"/tasks/{task_id}/checklists")
    response = client.post(f"/tasks/{task_id}/checklists", data={"text": text, "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        task = db.session.get(LabellingTask, task_id)
        assert task.checklists == [
            {"name": "general", "items": ["e-log read"]},
            {"name": "beamspot", "items": ["beam spot position stable", "no vertex drift"]},
        ]
        entry = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "edit_checklists")).scalar_one()
        assert [g["name"] for g in entry.before["checklists"]] == ["general", "pixel", "strip", "tracking"]
    auth.logout()

    auth.login("sam", PASSWORD)
    form_page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert "no vertex drift" in form_page and "Signal-to-noise" not in form_page
    partly = certify_form(auth, task_id, checklist=["general/0", "beamspot/0"])
    response = client.post(f"/tasks/{task_id}/runs/{RUN}", data=partly)
    assert response.status_code == 400 and "beamspot not ticked" in response.get_data(as_text=True)
    ticked = certify_form(auth, task_id, checklist=["general/0", "beamspot/0", "beamspot/1"])
    assert client.post(f"/tasks/{task_id}/runs/{RUN}", data=ticked).status_code == 302
    assert only_certification(app).checklist == {"general": True, "beamspot": True}


def test_bad_checklists_are_refused_and_change_nothing(app, client, auth, task_id):
    auth.login("lea", PASSWORD)
    token = auth.csrf_token(f"/tasks/{task_id}/checklists")
    response = client.post(
        f"/tasks/{task_id}/checklists", data={"text": "- orphan item\nPixel Stuff\n", "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "line 1" in page and "Pixel Stuff" in page
    with app.app_context():
        assert db.session.get(LabellingTask, task_id).checklists == [dict(g) for g in DEFAULT_CHECKLISTS]
    auth.logout()
    auth.login("sam", PASSWORD)
    assert client.get(f"/tasks/{task_id}/checklists").status_code == 403


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pixel\n", "has no item"),
        ("pixel\n- a\npixel\n- b\n", "appears twice"),
        ("", "at least one group"),
        ("- a\n", "needs a group name"),
    ],
)
def test_parse_checklists_names_each_problem(text, message):
    with pytest.raises(Refused, match=message):
        parse_checklists(text)
