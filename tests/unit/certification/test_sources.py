"""The models page of a task: shift leaders and organisers activate sources and set thresholds, nobody else;
refused changes change nothing; shifters' use of suggestions is counted."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import BadRange, LabellingTask, SuggestionSource, User
from tests.helpers import PASSWORD
from tests.unit.certification.conftest import RUN, csrf
from tests.unit.suggestions.tasks import add_source, certify, make_task


@pytest.mark.parametrize(("user", "status"), [("lea", 200), ("olga", 200), ("sam", 403), ("rita", 403)])
def test_models_page_for_shift_leaders_and_organisers(client, auth, setup, user, status):
    task_id, _, _, _ = setup()
    auth.login(user, PASSWORD)
    response = client.get(f"/tasks/{task_id}/models")
    assert response.status_code == status
    if status == 200:
        assert 'data-testid="sources"' in response.get_data(as_text=True)


def test_shift_leader_activates_a_live_source_and_sets_a_threshold(app, client, auth, setup):
    task_id, source_id, live_id, _ = setup()
    auth.login("lea", PASSWORD)
    page = client.get(f"/tasks/{task_id}/models").get_data(as_text=True)
    assert f'id="activate-{live_id}"' in page
    token = csrf(page)
    response = client.post(f"/tasks/{task_id}/models/{live_id}", data={"activate": "Activate", "csrf_token": token})
    assert response.status_code == 302
    response = client.post(
        f"/tasks/{task_id}/models/{source_id}", data={"threshold": "0.95", "save": "Set", "csrf_token": token}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(SuggestionSource, live_id).active
        assert db.session.get(SuggestionSource, source_id).threshold == 0.95
    auth.logout()
    auth.login("sam", PASSWORD)
    page = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert f'data-source-id="{live_id}"' in page  # activated: shifters see it
    assert page.count('data-testid="suggested-range"') == 1  # the first source suggests nothing at 0.95


@pytest.mark.parametrize(
    ("user", "data", "status"),
    [
        ("lea", {"threshold": "1.5", "save": "Set"}, 400),
        ("lea", {"threshold": "much", "save": "Set"}, 400),
        ("sam", {"activate": "Activate"}, 403),
        ("sam", {"threshold": "0.2", "save": "Set"}, 403),
    ],
)
def test_refused_changes_change_nothing(app, client, auth, setup, user, data, status):
    task_id, source_id, live_id, _ = setup()
    auth.login(user, PASSWORD)
    token = auth.csrf_token("/")
    for target in (source_id, live_id):
        response = client.post(f"/tasks/{task_id}/models/{target}", data=data | {"csrf_token": token})
        assert response.status_code == status
    with app.app_context():
        sources = db.session.execute(db.select(SuggestionSource).order_by(SuggestionSource.id)).scalars()
        assert [(s.active, s.threshold) for s in sources] == [(True, 0.5), (False, 0.5)]


def test_a_source_of_another_task_is_not_found(app, client, auth, setup):
    task_id, _, _, _ = setup()
    with app.app_context():
        other = make_task({RUN + 1: range(1, 5)})
        foreign = add_source(other, {RUN + 1: {1: 0.9}}).id
    auth.login("lea", PASSWORD)
    response = client.post(
        f"/tasks/{task_id}/models/{foreign}", data={"deactivate": "Deactivate", "csrf_token": auth.csrf_token("/")}
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(SuggestionSource, foreign).active


def test_models_page_counts_accepted_suggestions_per_shifter(app, client, auth, setup):
    task_id, source_id, _, users = setup()
    with app.app_context():
        certification = certify(db.session.get_one(LabellingTask, task_id), RUN, db.session.get_one(User, users["sam"]))
        certification.bad_ranges = [
            BadRange(first=10, last=14, components=["pixel"], origin="suggested", source_id=source_id),
            BadRange(first=30, last=31, components=["pixel"]),
        ]
        db.session.commit()
    auth.login("lea", PASSWORD)
    page = client.get(f"/tasks/{task_id}/models").get_data(as_text=True)
    row = page[page.index('data-testid="shifter-sam"') :].split("</tr>")[0]
    cells = re.findall(r'<td class="text-end">(\d+)', row)
    assert cells[:4] == ["1", "1", "0", "0"]  # one run with suggestions, its one range accepted unchanged
    review = client.get(f"/tasks/{task_id}/runs/{RUN}").get_data(as_text=True)
    assert 'data-testid="range-origin">suggested by model' in review
