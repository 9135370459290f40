"""Teams: creating, joining, leaving, the lead and merges, and quotas, finals and boards counted per team."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Submission, Team, TeamMergeRequest
from app.models.types import utcnow
from app.services.competitions import leaderboards, submissions, teams
from app.services.competitions.submissions import select_final
from app.services.competitions.visibility import can_see_submission, can_select
from app.services.errors import Refused
from tests.helpers import add_submission, make_competition, make_user


@pytest.fixture
def ctx(app, tmp_path):
    """A competition (daily limit 5, teams of up to 3) and three researchers who joined it."""
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 3})
        people = [make_user(name) for name in ("rita", "ravi", "mia")]
        for person in people:
            submissions.join(competition, person)
        db.session.commit()
        yield competition, people


def _refused(call, *args) -> Refused:
    with pytest.raises(Refused) as caught:
        call(*args)
    return caught.value


def test_the_creator_leads_and_only_participants_team_up(ctx):
    competition, (rita, _, _) = ctx
    team = teams.create(competition, rita, "  Pixel   pushers ")
    assert (team.name, team.leader_id, [m.user_id for m in team.members]) == ("Pixel pushers", rita.id, [rita.id])
    assert len(team.invite_token) >= 32
    outsider = make_user("olaf")
    refused = _refused(teams.create, competition, outsider, "Olaf's")
    assert refused.status == 403 and "Join the competition" in refused.message


def test_one_team_per_participant_and_names_unique_in_a_competition(ctx):
    competition, (rita, ravi, _) = ctx
    teams.create(competition, rita, "Pixel pushers")
    again = _refused(teams.create, competition, rita, "Another")
    assert again.status == 409 and "already in team 'Pixel pushers'" in again.message
    taken = _refused(teams.create, competition, ravi, "Pixel pushers")
    assert taken.status == 409 and "already exists" in taken.message
    assert db.session.execute(db.select(db.func.count(Team.id))).scalar() == 1


def test_a_full_team_refuses_a_member_with_the_numbers(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 2})
        rita, ravi, mia = (make_user(n) for n in ("rita", "ravi", "mia"))
        for person in (rita, ravi, mia):
            submissions.join(competition, person)
        team = teams.create(competition, rita, "Pair")
        teams.join(competition, ravi, team.invite_token)
        refused = _refused(teams.join, competition, mia, team.invite_token)
        assert refused.status == 409 and "is full: it has 2 members" in refused.message
        assert teams.team_of(competition, mia) is None


def test_joining_moves_ones_submissions_to_the_team_and_quotas_are_shared(ctx):
    competition, (rita, ravi, _) = ctx
    add_submission(competition, rita, public=0.6)
    add_submission(competition, rita, public=0.7)
    add_submission(competition, ravi, public=0.8)
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    assert {s.team_id for s in db.session.execute(db.select(Submission)).scalars()} == {team.id}
    participation = submissions.participation_of(competition, ravi)
    assert submissions.quota_for(competition, participation).remaining_today == 2  # 5 a day, 3 made by the team
    add_submission(competition, ravi, public=0.5)
    add_submission(competition, rita, public=0.5)
    with pytest.raises(Refused) as caught:
        submissions.submit(competition, ravi, io.BytesIO(b"id,label\nx,1\n"), file_name="p.csv")
    refused = caught.value
    assert refused.status == 429 and "Your team has used its 5 submissions of today" in refused.message


def test_a_join_that_would_exceed_the_merge_limit_is_refused_and_changes_nothing(ctx):
    competition, (rita, ravi, _) = ctx
    for _ in range(3):
        add_submission(competition, rita, public=0.6)
        add_submission(competition, ravi, public=0.6)
    team = teams.create(competition, rita, "Pixel pushers")
    refused = _refused(teams.join, competition, ravi, team.invite_token)
    assert refused.status == 409
    assert (
        "6 submissions" in refused.message and "at most 5" in refused.message and "5 a day x 1 day" in refused.message
    )
    assert teams.team_of(competition, ravi) is None
    mine = db.session.execute(db.select(Submission.team_id).where(Submission.user_id == ravi.id)).scalars().all()
    assert mine == [None, None, None]


def test_someone_in_a_team_that_submitted_cannot_join_another(ctx):
    competition, (rita, ravi, mia) = ctx
    first = teams.create(competition, rita, "First")
    second = teams.create(competition, ravi, "Second")
    add_submission(competition, ravi, public=0.5)
    refused = _refused(teams.join, competition, ravi, first.invite_token)
    assert refused.status == 409 and "'Second', which has 1 submissions" in refused.message
    # A team that has not submitted is left for the new one (and, empty, dissolved).
    third = teams.create(competition, mia, "Third")
    teams.join(competition, mia, second.invite_token)
    assert teams.team_of(competition, mia).id == second.id
    assert db.session.get(Team, third.id) is None


def test_leaving_before_the_deadline_keeps_the_submissions_with_the_team_and_hands_over_the_lead(ctx):
    competition, (rita, ravi, mia) = ctx
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    teams.join(competition, mia, team.invite_token)
    made = add_submission(competition, rita, public=0.7)
    teams.leave(team, rita)
    db.session.refresh(team)
    assert team.leader_id == ravi.id, "the lead passes to the member who joined first"
    assert [m.user_id for m in team.members] == [ravi.id, mia.id]
    assert db.session.get(Submission, made.id).team_id == team.id
    fresh = submissions.quota_for(competition, submissions.participation_of(competition, rita))
    assert fresh.remaining_today == 5, "alone again, with a quota of one's own"


def test_after_the_merge_deadline_only_a_team_that_has_not_submitted_can_be_left(ctx):
    competition, (rita, ravi, mia) = ctx
    team = teams.create(competition, rita, "Submitted")
    teams.join(competition, ravi, team.invite_token)
    add_submission(competition, rita, public=0.7)
    quiet = teams.create(competition, mia, "Quiet")
    competition.merge_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    refused = _refused(teams.leave, team, ravi)
    assert refused.status == 409 and "has 1 submissions and teams are fixed" in refused.message
    assert team.has_member(ravi)
    teams.leave(quiet, mia)
    assert db.session.get(Team, quiet.id) is None, "the last member of a team dissolves it"
    late = _refused(teams.create, competition, mia, "Late")
    assert late.status == 409 and "Teams are fixed since the merge deadline" in late.message


def test_the_last_member_cannot_leave_a_team_that_submitted(ctx):
    competition, (rita, _, _) = ctx
    team = teams.create(competition, rita, "Solo")
    add_submission(competition, rita, public=0.7)
    refused = _refused(teams.leave, team, rita)
    assert refused.status == 409 and "last member" in refused.message and "1 submissions" in refused.message


def test_only_the_leader_hands_over_the_lead_and_only_to_a_member(ctx):
    competition, (rita, ravi, _) = ctx
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    assert _refused(teams.transfer_lead, team, ravi, "ravi").status == 403
    assert _refused(teams.transfer_lead, team, rita, "mia").status == 400
    teams.transfer_lead(team, rita, "ravi")
    assert team.leader_id == ravi.id


def test_a_merge_needs_both_leaders_then_moves_members_and_submissions(ctx):
    competition, (rita, ravi, mia) = ctx
    kept = teams.create(competition, rita, "Kept")
    merged = teams.create(competition, ravi, "Merged")
    add_submission(competition, rita, public=0.6)
    add_submission(competition, ravi, public=0.9)
    assert _refused(teams.merge, merged, kept, mia).status == 403
    assert teams.merge(merged, kept, ravi) is False, "the first leader's call records the request"
    assert teams.merge(merged, kept, ravi) is False, "asking twice changes nothing"
    assert teams.merge(merged, kept, rita) is True, "the other leader's call merges"
    db.session.expire_all()
    assert db.session.get(Team, merged.id) is None
    assert {m.user_id for m in kept.members} == {rita.id, ravi.id} and kept.leader_id == rita.id
    assert {s.team_id for s in db.session.execute(db.select(Submission)).scalars()} == {kept.id}
    assert db.session.execute(db.select(db.func.count(TeamMergeRequest.id))).scalar() == 0
    (row,) = leaderboards.compute(competition, "public")
    assert (row.participant, row.team, row.score, row.submissions) == ("Kept", "Kept", 0.9, 2)
    assert set(row.members) == {"rita", "ravi"}


def test_a_merge_above_the_team_size_is_refused(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 2})
        rita, ravi, mia = (make_user(n) for n in ("rita", "ravi", "mia"))
        for person in (rita, ravi, mia):
            submissions.join(competition, person)
        pair = teams.create(competition, rita, "Pair")
        teams.join(competition, ravi, pair.invite_token)
        single = teams.create(competition, mia, "Single")
        refused = _refused(teams.merge, single, pair, mia)
        assert refused.status == 409 and "would have 3 members" in refused.message and "at most 2" in refused.message


def test_merged_finals_keep_the_staying_teams_when_both_hold_too_many(ctx):
    competition, (rita, ravi, _) = ctx
    kept = teams.create(competition, rita, "Kept")
    merged = teams.create(competition, ravi, "Merged")
    ours = [add_submission(competition, rita, public=0.5 + i / 10) for i in range(2)]
    theirs = [add_submission(competition, ravi, public=0.6 + i / 10) for i in range(2)]
    for submission in ours + theirs:
        select_final(submission)
    teams.merge(merged, kept, rita)
    teams.merge(merged, kept, ravi)
    db.session.expire_all()
    assert [s.selected for s in ours + theirs] == [True, True, False, False]


def test_final_selections_count_per_team(ctx):
    competition, (rita, ravi, _) = ctx
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    made = [add_submission(competition, person, public=0.5) for person in (rita, ravi, ravi)]
    select_final(made[0])
    select_final(made[1])
    refused = _refused(select_final, made[2])
    assert refused.status == 409 and "Your team already selected 2 submissions" in refused.message


def test_boards_rank_one_row_per_team_beside_participants_alone(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path, teams={"max_size": 3})
        rita, ravi, mia = (make_user(n) for n in ("rita", "ravi", "mia"))
        for person in (rita, ravi, mia):
            submissions.join(competition, person)
        team = teams.create(competition, rita, "Pixel pushers")
        teams.join(competition, ravi, team.invite_token)
        add_submission(competition, rita, public=0.70, private=0.60)
        add_submission(competition, ravi, public=0.80, private=0.55)
        add_submission(competition, mia, public=0.75, private=0.90)
        public = leaderboards.compute(competition, "public")
        assert [(r.rank, r.participant, r.team, r.members, r.submissions) for r in public] == [
            (1, "Pixel pushers", "Pixel pushers", ("rita", "ravi"), 2),
            (2, "mia", None, ("mia",), 1),
        ]
        private = leaderboards.compute(competition, "private")
        assert [(r.participant, r.score, r.public_rank) for r in private] == [
            ("mia", 0.90, 2),
            ("Pixel pushers", 0.60, 1),  # without finals, the team's two best public submissions
        ]
        assert public[0].as_json()["members"] == ["rita", "ravi"] and "entrant" not in public[0].as_json()


def test_members_see_and_select_the_teams_submissions_and_nobody_else_does(ctx):
    competition, (rita, ravi, mia) = ctx
    team = teams.create(competition, rita, "Pixel pushers")
    teams.join(competition, ravi, team.invite_token)
    theirs = add_submission(competition, ravi, public=0.5)
    assert [s.id for s in submissions.submissions_of(competition, rita)] == [theirs.id]
    assert can_see_submission(theirs, rita) and can_select(theirs, rita)
    assert not can_see_submission(theirs, mia) and not can_select(theirs, mia)
    teams.leave(team, ravi)
    assert can_see_submission(theirs, ravi), "its author still sees it"
    assert not can_select(theirs, ravi), "but it is the team's to pick"
