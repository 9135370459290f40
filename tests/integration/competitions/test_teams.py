"""Teams on PostgreSQL: a refused merge changes nothing, joining and leaving rules, concurrent joins never
overfill a team, and the boards' SQL ranks teams beside participants alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Competition, FinalSelection, Submission, Team, TeamMember, TeamMergeRequest, User
from app.models.types import utcnow
from app.services.competitions import leaderboards, submissions, teams
from app.services.competitions.submissions import select_final
from app.services.errors import Refused
from tests.conftest import make_app
from tests.helpers import add_submission, bearer, make_competition, make_token, make_user

pytestmark = pytest.mark.databases("postgresql")
NAMES = ("rita", "ravi", "mia", "noor", "omar", "pia")


@pytest.fixture
def competition(app, tmp_path):
    """A competition opened a day and a half ago (daily limit 5: merges up to 10), teams of up to 3."""
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 3})
        competition.opens_at = utcnow() - timedelta(hours=36)
        for name in NAMES:
            submissions.join(competition, make_user(name))
        db.session.commit()
        yield competition


def _user(name: str) -> User:
    return db.session.execute(db.select(User).where(User.username == name)).scalar_one()


def _snapshot() -> tuple:
    """Everything a merge could change."""
    return (
        sorted(db.session.execute(db.select(Team.id, Team.name, Team.leader_id)).all()),
        sorted(db.session.execute(db.select(TeamMember.team_id, TeamMember.user_id)).all()),
        sorted(db.session.execute(db.select(Submission.id, Submission.team_id)).all()),
        sorted(db.session.execute(db.select(FinalSelection.submission_id)).scalars()),
        sorted(db.session.execute(db.select(TeamMergeRequest.team_id, TeamMergeRequest.into_id)).all()),
    )


def test_a_merge_over_the_limit_is_refused_with_the_numbers_and_changes_nothing(competition):
    rita, ravi = _user("rita"), _user("ravi")
    kept, merged = teams.create(competition, rita, "Kept"), teams.create(competition, ravi, "Merged")
    made = [add_submission(competition, rita, public=0.5) for _ in range(6)]
    made += [add_submission(competition, ravi, public=0.6) for _ in range(4)]
    select_final(made[0])
    select_final(made[-1])
    assert teams.merge(merged, kept, ravi) is False  # requested while the two teams had 10 together
    add_submission(competition, ravi, public=0.7)
    add_submission(competition, ravi, public=0.7, error="failed: refunded, so not counted")
    before = _snapshot()

    with pytest.raises(Refused) as refused:
        teams.merge(merged, kept, rita)
    assert refused.value.status == 409
    assert refused.value.message == (
        "The merged team would have 11 submissions; a team may have made at most 10 by now "
        "(5 a day x 2 days since the competition opened)."
    )
    db.session.expire_all()
    assert _snapshot() == before


def test_joining_and_leaving_rules(competition):
    rita, ravi, mia, noor = (_user(n) for n in ("rita", "ravi", "mia", "noor"))
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    teams.join(competition, mia, team.invite_token)
    with pytest.raises(Refused, match="is full: it has 3 members"):
        teams.join(competition, noor, team.invite_token)
    add_submission(competition, ravi, public=0.5)
    teams.leave(team, rita)  # before the deadline, although the team submitted
    db.session.expire_all()
    assert team.leader_id == ravi.id and [m.user.username for m in team.members] == ["ravi", "mia"]
    teams.join(competition, noor, team.invite_token)  # a place is free again
    competition.merge_deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Refused, match="its members can no longer leave it"):
        teams.leave(team, mia)
    with pytest.raises(Refused, match="Teams are fixed since the merge deadline"):
        teams.join(competition, rita, team.invite_token)


def test_concurrent_joins_never_overfill_a_team(app, database_url, tmp_path, competition):
    """Five participants open the invite link of a team of one at the same moment; teams hold 3: two get in."""
    with app.app_context():
        leader = teams.create(competition, _user("rita"), "Pixel pushers")
        invite, team_id = leader.invite_token, leader.id
        tokens = [make_token(_user(name)) for name in NAMES[1:]]
    served = make_app(database_url, tmp_path)

    def join(token):
        response = served.test_client().post(
            "/api/v1/competitions/test-comp/teams/join", headers=bearer(token), json={"invite_token": invite}
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(join, tokens))
    assert statuses == [200, 200, 409, 409, 409]
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).where(TeamMember.team_id == team_id)).scalar() == 3
    with served.app_context():
        db.engine.dispose()


def test_the_boards_rank_teams_beside_participants_alone(competition):
    rita, ravi, mia = (_user(n) for n in ("rita", "ravi", "mia"))
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    add_submission(competition, rita, public=0.70, private=0.40)
    best = add_submission(competition, ravi, public=0.80, private=0.55)
    add_submission(competition, mia, public=0.75, private=0.90)
    select_final(best)
    public = leaderboards.compute(competition, "public")
    assert [(r.rank, r.participant, r.team, r.members, r.submission_id) for r in public] == [
        (1, "Pixel pushers", "Pixel pushers", ("rita", "ravi"), best.id),
        (2, "mia", None, ("mia",), public[1].submission_id),
    ]
    competition = db.session.get(Competition, competition.id)
    private = leaderboards.compute(competition, "private")
    assert [(r.participant, r.score, r.rank_change) for r in private] == [("mia", 0.90, 1), ("Pixel pushers", 0.55, -1)]
