"""The certification page and the loop: it names the active sources and their suggested ranges, shows none on a
blind run before the viewer certified it, and posts where each accepted range came from."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import BadRange, Certification, LabellingTask, RangeOrigin, Role, SourceKind, User
from app.models.certification import DEFAULT_CHECKLISTS
from app.services.suggestions import blind
from tests.helpers import PASSWORD, make_user
from tests.unit.suggestions.tasks import add_source, certify, make_task

RUN = 7001
SCORES = {RUN: {n: (0.9 if 10 <= n <= 14 else 0.1) for n in range(1, 41)}}


def _seed(blind_run: bool) -> int:
    """A task seed under which RUN is (or is not) certified blind at a blind fraction of one half."""
    return next(s for s in range(1000) if blind.is_blind(s, RUN, 0.5) is blind_run)


@pytest.fixture
def setup(app):
    """A task of one run of 40 lumisections with one active upload source, and a user of each role."""

    def build(*, blind_run: bool = False):
        with app.app_context():
            users = {
                name: make_user(name, role).id
                for name, role in [
                    ("sam", Role.SHIFTER),
                    ("lea", Role.SHIFT_LEADER),
                    ("olga", Role.ORGANISER),
                    ("rita", Role.RESEARCHER),
                ]
            }
            task = make_task({RUN: range(1, 41)}, seed=_seed(blind_run), blind_fraction=0.5)
            source = add_source(task, SCORES, threshold=0.5)
            live = add_source(task, SCORES, threshold=0.5, kind=SourceKind.LIVE)
            return task.id, source.id, live.id, users

    return build


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


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
        "csrf_token": _csrf(page),
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
        "csrf_token": _csrf(page),
    }
    assert client.post(f"/tasks/{task_id}/runs/{RUN}", data=data).status_code == 302
    with app.app_context():
        (kept,) = db.session.execute(db.select(BadRange)).scalars()
        assert (kept.first, kept.last, kept.origin, kept.source_id) == (9, 16, RangeOrigin.SUGGESTED_EDITED, source_id)
