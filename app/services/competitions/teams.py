"""Teams of a competition: create one, join by invite token, leave, hand over the lead, merge two teams.

The rules, as the rules page states them:
- Only participants (who joined and accepted the rules) create or join teams, of at most the competition's
  ``team_max_size`` members. A participant is in at most one team; alone, they are a team of one.
- Joining is a merge of the joiner's team of one: their submissions count for the team from then on, and the
  join is refused as a merge would be. Someone in a team that has submitted cannot join another: its leader
  asks for a merge instead.
- A merge needs both leaders: the first leader's call records the request, the other leader's call performs
  it. The team named ``into`` stays (name, leader, invite token); the other's members and submissions move to it.
  Refused after the merge deadline, above ``team_max_size``, or when the merged team would have more counted
  submissions than ``daily_limit`` x days since the opening (quotas.merge_refusal).
- Leaving is allowed while the team has not submitted, or before the merge deadline; submissions stay with the
  team. A leader who leaves hands the lead to the member who joined first; the last member of a team dissolves
  it, which only a team without submissions may be.
- Final selections count per team: when two teams together hold more than ``final_selections``, the selections
  of the team (or participant) that joins are dropped.

Locks follow entrants: a participation before teams, teams by ascending id, so that no two changes wait on
each other and no upload counts a quota while its team changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, update

from app.extensions import db
from app.models import Competition, FinalSelection, Participation, Submission, Team, TeamMember, TeamMergeRequest, User
from app.models.types import utcnow
from app.services.competitions import entrants, leaderboards, quotas
from app.services.competitions.submissions import participation_of
from app.services.errors import Refused, refused_if_taken

MAX_NAME = 100


def team_of(competition: Competition, user: User | None) -> Team | None:
    """The user's team in the competition, or None when they compete alone."""
    if user is None or not user.is_authenticated:
        return None
    team_id = entrants.team_id_of(competition.id, user.id)
    return None if team_id is None else db.session.get(Team, team_id)


def get_team(team_id: int) -> Team:
    """The team of that id; Refused(404) when there is none (it may have been merged into another)."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise Refused(f"No team {team_id}: it does not exist, or it was merged into another team.", 404)
    return team


def by_invite_token(competition: Competition, token: str) -> Team:
    """The competition's team with that invite token; Refused(404) otherwise."""
    team = db.session.execute(
        db.select(Team).where(Team.competition_id == competition.id, Team.invite_token == token)
    ).scalar_one_or_none()
    if team is None:
        raise Refused("No team of this competition has this invite token; ask its members for the link again.", 404)
    return team


def teams_of(competition: Competition) -> list[Team]:
    """Every team of the competition, by name."""
    return list(
        db.session.execute(db.select(Team).where(Team.competition_id == competition.id).order_by(Team.name)).scalars()
    )


def counted_submissions(team: Team) -> int:
    """The team's submissions that count against quotas (failed ones are refunded)."""
    return entrants.Entrant.team(team.id).counted()


def opened_at(competition: Competition) -> datetime:
    """When the competition opened, for the merge rule: its opening, or its creation when it has none."""
    return competition.opens_at or competition.created_at


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _check_not_fixed(competition: Competition, now: datetime, what: str) -> None:
    if not competition.teams_fixed(now):
        return
    if competition.merge_deadline is not None and now >= competition.merge_deadline:
        since = f"the merge deadline, {_when(competition.merge_deadline)}"
    else:
        since = "the close"
    raise Refused(f"Teams are fixed since {since}: {what} is no longer possible.", 409)


def _participation(competition: Competition, user: User) -> Participation:
    participation = participation_of(competition, user)
    if participation is None:
        raise Refused(
            f"Join the competition and accept its rules before teaming up: POST /api/v1/competitions/"
            f"{competition.slug}/join, or the Rules tab.",
            403,
        )
    return participation


def _clean_name(name: object) -> str:
    cleaned = " ".join(str(name or "").split())
    if not 0 < len(cleaned) <= MAX_NAME:
        raise Refused(f"A team's name has 1 to {MAX_NAME} characters; this one has {len(cleaned)}.", field="name")
    return cleaned


def _member_count(team_id: int) -> int:
    return db.session.execute(db.select(func.count(TeamMember.id)).where(TeamMember.team_id == team_id)).scalar_one()


def _lock_teams(*teams: Team) -> None:
    """Lock the teams' rows in ascending id; Refused(404) when one is gone meanwhile (merged away)."""
    for team in sorted(teams, key=lambda t: t.id):
        if not entrants.lock_team(team.id):
            db.session.rollback()
            raise Refused(f"Team {team.name!r} was merged into another team meanwhile.", 404)


def _changed(competition: Competition) -> None:
    """Commit a change of teams; the boards show teams and members, so they are computed again."""
    db.session.commit()
    leaderboards.invalidate(competition)


def create(competition: Competition, user: User, name: object) -> Team:
    """Create a team led by the user; their own submissions so far count for it from now on."""
    now = utcnow()
    participation = _participation(competition, user)
    name = _clean_name(name)
    if competition.team_max_size < 2:
        raise Refused("This competition has no teams: everyone competes alone (a team size of 1).", 409)
    _check_not_fixed(competition, now, "creating a team")
    entrants.lock_participation(participation.id)
    current = team_of(competition, user)
    if current is not None:
        db.session.rollback()
        raise Refused(f"You are already in team {current.name!r} of this competition: leave it first.", 409)
    team = Team(competition_id=competition.id, name=name, leader_id=user.id, created_at=now)
    with refused_if_taken(db.session, f"A team named {name!r} already exists in this competition."):
        db.session.add(team)
        db.session.flush()
    db.session.add(TeamMember(competition_id=competition.id, team_id=team.id, user_id=user.id, joined_at=now))
    _absorb(entrants.Entrant(participation.id, None), team, competition)
    _changed(competition)
    return team


def join(competition: Competition, user: User, token: str) -> Team:
    """Join the team holding the invite token (leaving a team of one's own that has not submitted)."""
    now = utcnow()
    participation = _participation(competition, user)
    team = by_invite_token(competition, token)
    _check_not_fixed(competition, now, "joining a team")
    entrants.lock_participation(participation.id)
    current = team_of(competition, user)
    if current is not None and current.id == team.id:
        db.session.rollback()
        return team
    _lock_teams(team, *([current] if current is not None else []))
    if current is not None and (made := counted_submissions(current)):
        db.session.rollback()
        raise Refused(
            f"You are in team {current.name!r}, which has {made} submissions: leave it first, or have its leader "
            f"ask {team.name!r} to merge.",
            409,
        )
    members = _member_count(team.id)
    if members >= competition.team_max_size:
        db.session.rollback()
        raise Refused(
            f"Team {team.name!r} is full: it has {members} members, the most a team of this competition may have.",
            409,
        )
    mine = entrants.Entrant(participation.id, None)
    if solo := mine.counted():
        joining = f"Joining {team.name!r} brings your {solo} submissions to it, so it is refused as a merge would be. "
        _check_merge_limit(competition, counted_submissions(team) + solo, now, joining)
    if current is not None:
        _remove_member(current, user)
    db.session.add(TeamMember(competition_id=competition.id, team_id=team.id, user_id=user.id, joined_at=now))
    _absorb(mine, team, competition)
    _changed(competition)
    return team


def _check_merge_limit(competition: Competition, total: int, now: datetime, prefix: str = "") -> None:
    refusal = quotas.merge_refusal(
        total,
        daily_limit=competition.daily_limit,
        total_limit=competition.total_limit,
        opened_at=opened_at(competition),
        now=now,
    )
    if refusal is not None:
        db.session.rollback()
        raise Refused(prefix + refusal, 409)


def _absorb(source: entrants.Entrant, team: Team, competition: Competition) -> None:
    """Make the source's submissions count for the team, dropping its finals if both hold too many together."""
    selections = db.select(func.count(FinalSelection.id)).join(
        Submission, Submission.id == FinalSelection.submission_id
    )
    theirs = db.session.execute(selections.where(source.owns())).scalar_one()
    ours = db.session.execute(selections.where(Submission.team_id == team.id)).scalar_one()
    if theirs and theirs + ours > competition.final_selections:
        db.session.execute(
            delete(FinalSelection).where(
                FinalSelection.submission_id.in_(db.select(Submission.id).where(source.owns()))
            )
        )
    db.session.execute(update(Submission).where(source.owns()).values(team_id=team.id))


def leave(team: Team, user: User) -> None:
    """Leave the team: allowed while it has not submitted, or before the merge deadline."""
    competition, now = team.competition, utcnow()
    if not team.has_member(user):
        raise Refused(f"You are not in team {team.name!r}.", 403)
    entrants.lock_participation(_participation(competition, user).id)
    _lock_teams(team)
    made = counted_submissions(team)
    if made and competition.teams_fixed(now):
        db.session.rollback()
        raise Refused(
            f"Team {team.name!r} has {made} submissions and teams are fixed (merge deadline or close passed): "
            "its members can no longer leave it.",
            409,
        )
    if made and _member_count(team.id) == 1:
        db.session.rollback()
        raise Refused(
            f"You are the last member of {team.name!r}, which has {made} submissions: a team that submitted "
            "keeps at least one member.",
            409,
        )
    _remove_member(team, user)
    _changed(competition)


def _remove_member(team: Team, user: User) -> None:
    """Take the user out of the team: the lead passes to the member who joined first, an empty team dissolves."""
    db.session.execute(delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id))
    db.session.expire(team, ["members"])
    remaining = team.members
    if not remaining:
        # Only a team without counted submissions dissolves; its failed ones go back to their authors alone.
        db.session.execute(update(Submission).where(Submission.team_id == team.id).values(team_id=None))
        db.session.execute(
            delete(TeamMergeRequest).where(
                or_(TeamMergeRequest.team_id == team.id, TeamMergeRequest.into_id == team.id)
            )
        )
        db.session.execute(delete(Team).where(Team.id == team.id))
        db.session.expunge(team)
    elif team.leader_id == user.id:
        team.leader_id = remaining[0].user_id


def transfer_lead(team: Team, user: User, username: str) -> None:
    """The leader hands the lead to another member of the team."""
    if team.leader_id != user.id:
        raise Refused(f"Only the team's leader, {team.leader.username}, hands over the lead.", 403)
    member = next((m for m in team.members if m.user.username == username), None)
    if member is None:
        raise Refused(f"{username!r} is not a member of team {team.name!r}.", field="username")
    _lock_teams(team)
    team.leader_id = member.user_id
    _changed(team.competition)


def merge(team: Team, into: Team, user: User) -> bool:
    """A leader's agreement to merge team into ``into``: True when it was the second and the merge is done."""
    competition, now = team.competition, utcnow()
    if team.id == into.id:
        raise Refused("A team cannot merge with itself.")
    if into.competition_id != team.competition_id:
        raise Refused(f"Team {into.name!r} is in another competition.")
    asking = next((t for t in (team, into) if t.leader_id == user.id), None)
    if asking is None:
        raise Refused(f"Only the leaders of {team.name!r} and {into.name!r} agree to merge them.", 403)
    _check_not_fixed(competition, now, "merging teams")
    _lock_teams(team, into)
    members = _member_count(team.id) + _member_count(into.id)
    if members > competition.team_max_size:
        db.session.rollback()
        raise Refused(
            f"The merged team would have {members} members; a team of this competition has at most "
            f"{competition.team_max_size}.",
            409,
        )
    _check_merge_limit(competition, counted_submissions(team) + counted_submissions(into), now)
    request = db.session.execute(
        db.select(TeamMergeRequest).where(TeamMergeRequest.team_id == team.id, TeamMergeRequest.into_id == into.id)
    ).scalar_one_or_none()
    if request is None or request.asked_by_id == asking.id:
        if request is None:
            db.session.add(TeamMergeRequest(team_id=team.id, into_id=into.id, asked_by_id=asking.id, created_at=now))
        db.session.commit()
        return False
    _absorb(entrants.Entrant.team(team.id), into, competition)
    db.session.execute(update(TeamMember).where(TeamMember.team_id == team.id).values(team_id=into.id))
    db.session.execute(
        delete(TeamMergeRequest).where(or_(TeamMergeRequest.team_id == team.id, TeamMergeRequest.into_id == team.id))
    )
    db.session.execute(delete(Team).where(Team.id == team.id))
    db.session.expunge(team)
    _changed(competition)
    return True


def merge_requests(team: Team) -> list[TeamMergeRequest]:
    """The merges the team asked for or was asked for, oldest first."""
    return list(
        db.session.execute(
            db.select(TeamMergeRequest)
            .where(or_(TeamMergeRequest.team_id == team.id, TeamMergeRequest.into_id == team.id))
            .order_by(TeamMergeRequest.id)
        ).scalars()
    )


def drop_merge_request(request: TeamMergeRequest, user: User) -> None:
    """Either leader withdraws or declines a merge request."""
    if user.id not in (request.team.leader_id, request.into.leader_id):
        raise Refused("Only the leaders of the two teams withdraw or decline their merge.", 403)
    db.session.delete(request)
    db.session.commit()


def team_as_json(team: Team, viewer: User | None) -> dict:
    """A team as the API shows it: members and counts to all; the invite token and merge requests to members."""
    body = {
        "id": team.id,
        "name": team.name,
        "competition": team.competition.slug,
        "leader": team.leader.username,
        "members": [
            {"username": m.user.username, "joined_at": m.joined_at.isoformat(), "leader": m.user_id == team.leader_id}
            for m in team.members
        ],
        "submissions": counted_submissions(team),
        "created_at": team.created_at.isoformat(),
        "invite_token": None,
        "merge_requests": None,
    }
    if team.has_member(viewer):
        body["invite_token"] = team.invite_token
        body["merge_requests"] = [
            {
                "team": r.team_id,
                "team_name": r.team.name,
                "into": r.into_id,
                "into_name": r.into.name,
                "asked_by": r.asked_by_id,
                "created_at": r.created_at.isoformat(),
            }
            for r in merge_requests(team)
        ]
    return body
