"""The team pages (app/competitions/teams.py): what each visitor sees, and every change made by its forms."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Team, TeamMergeRequest
from app.services.competitions import submissions
from tests.helpers import PASSWORD, make_competition, make_user

SLUG = "test-comp"
PAGE = f"/competitions/{SLUG}/team"


@pytest.fixture
def world(app, tmp_path):
    """A competition with teams of up to 3; rita, ravi and mia joined it, olaf did not."""
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 3})
        for name in ("rita", "ravi", "mia", "olaf"):
            user = make_user(name)
            if name != "olaf":
                submissions.join(competition, user)
        db.session.commit()


def _post(client, auth, path, data=None):
    return client.post(path, data={"csrf_token": auth.csrf_token(PAGE), **(data or {})})


def _team(app, name):
    with app.app_context():
        team = db.session.execute(db.select(Team).where(Team.name == name)).scalar_one()
        return team.id, team.invite_token


def test_the_page_says_what_each_visitor_can_do(client, auth, world):
    assert "Log in</a> to create or join a team" in client.get(PAGE).get_data(as_text=True)
    assert 'href="/competitions/test-comp/team"' in client.get(f"/competitions/{SLUG}").get_data(as_text=True)
    auth.login("olaf", PASSWORD)
    assert "before teaming up" in client.get(PAGE).get_data(as_text=True)
    auth.logout()
    auth.login("rita", PASSWORD)
    page = client.get(PAGE).get_data(as_text=True)
    assert "You compete alone" in page and "Create the team" in page
    rules = client.get(f"/competitions/{SLUG}/rules").get_data(as_text=True)
    assert "Quotas count per team" in rules and "at most <strong>5</strong> submissions" in rules


def test_create_then_join_by_the_link_then_leave(app, client, auth, world):
    auth.login("rita", PASSWORD)
    created = _post(client, auth, f"{PAGE}/create", {"name": "Pixel pushers"})
    assert created.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    team_id, token = _team(app, "Pixel pushers")
    assert f"/competitions/{SLUG}/teams/join/{token}" in page and "leader" in page
    auth.logout()

    auth.login("ravi", PASSWORD)
    link = f"/competitions/{SLUG}/teams/join/{token}"
    invite = client.get(link)
    assert invite.status_code == 200 and "Join Pixel pushers" in invite.get_data(as_text=True)
    assert client.post(link, data={}).status_code == 400, "joining takes the form's CSRF token"
    joined = client.post(link, data={"csrf_token": auth.csrf_token(link)})
    assert joined.status_code == 302
    assert "ravi" in client.get(PAGE).get_data(as_text=True)
    assert client.get(f"/competitions/{SLUG}/teams/join/nope").status_code == 404

    left = _post(client, auth, f"/teams/{team_id}/leave")
    assert left.status_code == 302
    with app.app_context():
        assert [m.user.username for m in db.session.get(Team, team_id).members] == ["rita"]


def test_a_refused_change_shows_the_reason_with_its_status(app, client, auth, world):
    auth.login("rita", PASSWORD)
    _post(client, auth, f"{PAGE}/create", {"name": "Pixel pushers"})
    again = _post(client, auth, f"{PAGE}/create", {"name": "Another"})
    assert again.status_code == 409 and "already in team" in again.get_data(as_text=True)
    assert _post(client, auth, f"{PAGE}/create", {"name": ""}).status_code == 400


def test_leaders_merge_from_the_page_and_hand_over_the_lead(app, client, auth, world):
    auth.login("ravi", PASSWORD)
    _post(client, auth, f"{PAGE}/create", {"name": "Merged"})
    auth.logout()
    auth.login("rita", PASSWORD)
    _post(client, auth, f"{PAGE}/create", {"name": "Kept"})
    kept, _ = _team(app, "Kept")
    merged, _ = _team(app, "Merged")
    asked = _post(client, auth, f"/teams/{kept}/merge", {"other": str(merged), "keep": "ours"})
    assert asked.status_code == 302
    auth.logout()

    auth.login("ravi", PASSWORD)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Merge <strong>Merged</strong> into <strong>Kept</strong>" in page and "Accept" in page
    with app.app_context():
        request_id = db.session.execute(db.select(TeamMergeRequest.id)).scalar_one()
    accepted = _post(client, auth, f"/teams/{merged}/merge-requests/{request_id}/accept")
    assert accepted.status_code == 302
    with app.app_context():
        assert db.session.get(Team, merged) is None
        assert {m.user.username for m in db.session.get(Team, kept).members} == {"rita", "ravi"}
    assert "Kept" in client.get(PAGE).get_data(as_text=True)
    auth.logout()

    auth.login("rita", PASSWORD)
    handed = _post(client, auth, f"/teams/{kept}/leader/ravi")
    assert handed.status_code == 302
    with app.app_context():
        assert db.session.get(Team, kept).leader.username == "ravi"


def test_a_merge_request_can_be_withdrawn(app, client, auth, world):
    auth.login("ravi", PASSWORD)
    _post(client, auth, f"{PAGE}/create", {"name": "Theirs"})
    auth.logout()
    auth.login("rita", PASSWORD)
    _post(client, auth, f"{PAGE}/create", {"name": "Ours"})
    ours, _ = _team(app, "Ours")
    theirs, _ = _team(app, "Theirs")
    _post(client, auth, f"/teams/{ours}/merge", {"other": str(theirs), "keep": "theirs"})
    with app.app_context():
        request = db.session.execute(db.select(TeamMergeRequest)).scalar_one()
        assert (request.team_id, request.into_id, request.asked_by_id) == (ours, theirs, ours)
        request_id = request.id
    assert "Withdraw" in client.get(PAGE).get_data(as_text=True)
    assert _post(client, auth, f"/teams/{ours}/merge-requests/{request_id}/drop").status_code == 302
    with app.app_context():
        assert db.session.execute(db.select(TeamMergeRequest)).first() is None
