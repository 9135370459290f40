"""The certification page and the loop: it names the active sources and their suggested ranges, shows none on a
blind run before the viewer certified it, and posts where each accepted range came from."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import BadRange, Certification, LabellingTask, RangeOrigin, User
from app.models.certification import DEFAULT_CHECKLISTS
from tests.helpers import PASSWORD
from tests.unit.certification.conftest import RUN, csrf
from tests.unit.suggestions.tasks import certify


def test_run_page_names_the_sources_and_their_ranges(client, auth, setup):
    task_id, source_id, _, _ = setup()
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert f'data-source-id="{source_id}"' in page
    assert 'data-testid="suggested-range">10-14</span> (5 LS)' in page
    assert 'id="suggestion-scores"' in page


def test_blind_run_shows_no_source_until_certified(app, client, auth, setup):
    task_id, _, _, users = setup(blind_run=True)
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert 'data-testid="blind-run"' in page
    assert "suggestion-scores" not in page and "10-14" not in page
    with app.app_context():
        certify(db.session.get_one(LabellingTask, task_id), RUN, db.session.get_one(User, users["sam"]))
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert 'data-testid="revealed"' in page and "10-14" in page


def test_accepted_ranges_are_posted_with_their_source(app, client, auth, setup):
    task_id, source_id, _, _ = setup()
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    data = {
        "pixel": "good",
        "strip": "good",
        "tracking": "good",
        "bad_ranges": "10-14; 30-31",
        "accepted": f"{source_id}:10-14",
        "trackermap": "exists",
        "comment": "as the model says, and a beam loss",
        "checklist": [f"{g['name']}/{i}" for g in DEFAULT_CHECKLISTS for i in range(len(g["items"]))],
        "submit": "Certify",
        "csrf_token": csrf(page),
    }
    response = client.post(f"/tasks/{task_id}/runs/{RUN}", data=data)
    assert response.status_code == 302, re.findall(r"alert-danger[^>]*>([^<]*)", response.get_data(as_text=True))
    with app.app_context():
        ranges = db.session.execute(db.select(BadRange).order_by(BadRange.first)).scalars().all()
        assert [(r.first, r.last, r.origin, r.source_id) for r in ranges] == [
            (10, 14, RangeOrigin.SUGGESTED, source_id),
            (30, 31, RangeOrigin.MANUAL, None),
        ]
        assert db.session.execute(db.select(Certification)).scalar_one().certifier.username == "sam"


def test_a_widened_suggestion_is_kept_as_edited(app, client, auth, setup):
    task_id, source_id, _, _ = setup()
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    data = {
        "pixel": "good",
        "strip": "good",
        "tracking": "good",
        "bad_ranges": "9-16",
        "accepted": f"{source_id}:10-14",
        "trackermap": "exists",
        "comment": "the model's range, a little wider",
        "checklist": [f"{g['name']}/{i}" for g in DEFAULT_CHECKLISTS for i in range(len(g["items"]))],
        "submit": "Certify",
        "csrf_token": csrf(page),
    }
    assert client.post(f"/tasks/{task_id}/runs/{RUN}", data=data).status_code == 302
    with app.app_context():
        (kept,) = db.session.execute(db.select(BadRange)).scalars()
        assert (kept.first, kept.last, kept.origin, kept.source_id) == (9, 16, RangeOrigin.SUGGESTED_EDITED, source_id)
