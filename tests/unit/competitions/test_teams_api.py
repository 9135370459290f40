"""Teams through the API (app/api/teams.py): create, join by token, read, leave, the lead and merges."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.competitions import submissions
from tests.helpers import add_submission, bearer, make_competition, make_token, make_user

SLUG = "test-comp"


@pytest.fixture
def tokens(app, tmp_path):
    """rita, ravi and mia, who joined the competition (teams of up to 3), and olaf, who did not: their tokens."""
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 3})
        found = {}
        for name in ("rita", "ravi", "mia", "olaf"):
            user = make_user(name)
            if name != "olaf":
                submissions.join(competition, user)
            found[name] = make_token(user)
        db.session.commit()
    return found


def _post(client, path, token, body=None):
    return client.post(f"/api/v1{path}", headers=bearer(token), json=body)


def test_create_join_and_read_a_team(client, tokens):
    created = _post(client, f"/competitions/{SLUG}/teams", tokens["rita"], {"name": "Pixel pushers"})
    assert created.status_code == 201
    team = created.get_json()
    assert team["leader"] == "rita" and team["invite_token"] and team["members"][0]["leader"] is True

    joined = _post(client, f"/competitions/{SLUG}/teams/join", tokens["ravi"], {"invite_token": team["invite_token"]})
    assert joined.status_code == 200 and [m["username"] for m in joined.get_json()["members"]] == ["rita", "ravi"]

    as_member = client.get(f"/api/v1/teams/{team['id']}", headers=bearer(tokens["ravi"])).get_json()
    as_outsider = client.get(f"/api/v1/teams/{team['id']}", headers=bearer(tokens["mia"])).get_json()
    anonymous = client.get(f"/api/v1/teams/{team['id']}").get_json()
    assert as_member["invite_token"] == team["invite_token"]
    assert as_outsider["invite_token"] is None and anonymous["invite_token"] is None
    assert as_outsider["merge_requests"] is None

    listed = client.get(f"/api/v1/competitions/{SLUG}/teams", headers=bearer(tokens["ravi"])).get_json()
    assert listed["mine"] == team["id"] and listed["max_size"] == 3 and listed["merge_deadline"] is None
    assert [t["name"] for t in listed["teams"]] == ["Pixel pushers"]


def test_refusals_are_json_errors_with_their_status(client, tokens):
    assert _post(client, f"/competitions/{SLUG}/teams", tokens["olaf"], {"name": "X"}).status_code == 403
    assert _post(client, f"/competitions/{SLUG}/teams", tokens["rita"], {"name": ""}).status_code == 400
    assert _post(client, f"/competitions/{SLUG}/teams", tokens["rita"], {"title": "X"}).status_code == 400
    wrong = _post(client, f"/competitions/{SLUG}/teams/join", tokens["ravi"], {"invite_token": "nope"})
    assert wrong.status_code == 404 and "invite token" in wrong.get_json()["error"]["message"]
    assert client.post(f"/api/v1/competitions/{SLUG}/teams", json={"name": "X"}).status_code == 401
    assert client.get("/api/v1/teams/999").status_code == 404


def test_join_is_409_when_the_callers_team_has_submissions(app, client, tokens):
    first = _post(client, f"/competitions/{SLUG}/teams", tokens["rita"], {"name": "First"}).get_json()
    _post(client, f"/competitions/{SLUG}/teams", tokens["ravi"], {"name": "Second"})
    with app.app_context():
        from app.models import Competition, User

        competition = db.session.execute(db.select(Competition)).scalar_one()
        add_submission(
            competition, db.session.execute(db.select(User).filter_by(username="ravi")).scalar_one(), public=1
        )
    refused = _post(client, f"/competitions/{SLUG}/teams/join", tokens["ravi"], {"invite_token": first["invite_token"]})
    assert refused.status_code == 409 and "which has 1 submissions" in refused.get_json()["error"]["message"]


def test_merge_takes_both_leaders_then_leave_and_lead(client, tokens):
    kept = _post(client, f"/competitions/{SLUG}/teams", tokens["rita"], {"name": "Kept"}).get_json()
    merged = _post(client, f"/competitions/{SLUG}/teams", tokens["ravi"], {"name": "Merged"}).get_json()
    asked = _post(client, f"/teams/{merged['id']}/merge", tokens["ravi"], {"into": kept["id"]})
    assert asked.status_code == 202 and asked.get_json() == {
        "status": "requested",
        "team": merged["id"],
        "into": kept["id"],
    }
    requests = client.get(f"/api/v1/teams/{kept['id']}", headers=bearer(tokens["rita"])).get_json()["merge_requests"]
    assert [(r["team_name"], r["into_name"], r["asked_by"]) for r in requests] == [("Merged", "Kept", merged["id"])]
    assert _post(client, f"/teams/{merged['id']}/merge", tokens["mia"], {"into": kept["id"]}).status_code == 403

    done = _post(client, f"/teams/{merged['id']}/merge", tokens["rita"], {"into": kept["id"]})
    assert done.status_code == 200 and done.get_json()["status"] == "merged"
    assert [m["username"] for m in done.get_json()["team"]["members"]] == ["rita", "ravi"]
    assert client.get(f"/api/v1/teams/{merged['id']}").status_code == 404

    handed = _post(client, f"/teams/{kept['id']}/leader", tokens["rita"], {"username": "ravi"})
    assert handed.status_code == 200 and handed.get_json()["leader"] == "ravi"
    left = _post(client, f"/teams/{kept['id']}/leave", tokens["rita"])
    assert left.status_code == 200 and left.get_json() == {"left": True, "team": kept["id"]}
    assert _post(client, f"/teams/{kept['id']}/leave", tokens["rita"]).status_code == 403


def test_leaderboard_rows_carry_the_team_and_its_members(app, client, tokens):
    team = _post(client, f"/competitions/{SLUG}/teams", tokens["rita"], {"name": "Pixel pushers"}).get_json()
    _post(client, f"/competitions/{SLUG}/teams/join", tokens["ravi"], {"invite_token": team["invite_token"]})
    with app.app_context():
        from app.models import Competition, User

        competition = db.session.execute(db.select(Competition)).scalar_one()
        for name, score in (("ravi", 0.8), ("mia", 0.7)):
            user = db.session.execute(db.select(User).filter_by(username=name)).scalar_one()
            add_submission(competition, user, public=score)
    rows = client.get(f"/api/v1/competitions/{SLUG}/leaderboard").get_json()["rows"]
    assert [(r["rank"], r["participant"], r["team"], r["members"]) for r in rows] == [
        (1, "Pixel pushers", "Pixel pushers", ["rita", "ravi"]),
        (2, "mia", None, ["mia"]),
    ]
    board = client.get(f"/competitions/{SLUG}/leaderboard.csv").get_data(as_text=True).splitlines()
    assert board[0].endswith(",team,members") and board[1].endswith(",Pixel pushers,rita ravi")
