"""API routes of teams: create, list, join by invite token, read, leave, hand over the lead, merge."""

from __future__ import annotations

from flask import jsonify

from app.api import bp
from app.api.auth import api_user, api_user_if_any, token_required
from app.api.schemas import TeamBody, TeamJoinBody, TeamLeaderBody, TeamMergeBody, parse_body
from app.extensions import db
from app.models import Competition
from app.services.competitions import teams


def _competition(slug: str) -> Competition:
    return db.one_or_404(
        db.select(Competition).where(Competition.slug == slug), description=f"No competition {slug!r}."
    )


@bp.post("/competitions/<slug>/teams")
@token_required
def create_team(slug: str):
    """Create a team of the competition, the caller its leader; 201 with its id and invite token."""
    competition = _competition(slug)
    team = teams.create(competition, api_user(), parse_body(TeamBody).name)
    return jsonify(teams.team_as_json(team, api_user())), 201


@bp.get("/competitions/<slug>/teams")
def list_teams(slug: str):
    """The competition's teams with their members, and the caller's team when a token is sent."""
    competition = _competition(slug)
    viewer = api_user_if_any()
    mine = teams.team_of(competition, viewer)
    return jsonify(
        teams=[teams.team_as_json(team, viewer) for team in teams.teams_of(competition)],
        mine=mine and mine.id,
        max_size=competition.team_max_size,
        merge_deadline=competition.merge_deadline and competition.merge_deadline.isoformat(),
    )


@bp.post("/competitions/<slug>/teams/join")
@token_required
def join_team(slug: str):
    """Join the team whose invite token is sent; 409 when it is full or the caller's team has submitted."""
    competition = _competition(slug)
    team = teams.join(competition, api_user(), parse_body(TeamJoinBody).invite_token)
    return jsonify(teams.team_as_json(team, api_user()))


@bp.get("/teams/<int:team_id>")
def team_details(team_id: int):
    """A team: members, leader, counted submissions; its invite token and merge requests for its members."""
    return jsonify(teams.team_as_json(teams.get_team(team_id), api_user_if_any()))


@bp.post("/teams/<int:team_id>/leave")
@token_required
def leave_team(team_id: int):
    """Leave the team: while it has not submitted, or before the merge deadline."""
    teams.leave(teams.get_team(team_id), api_user())
    return jsonify(left=True, team=team_id)


@bp.post("/teams/<int:team_id>/leader")
@token_required
def hand_over_lead(team_id: int):
    """The leader hands the lead to another member."""
    team = teams.get_team(team_id)
    teams.transfer_lead(team, api_user(), parse_body(TeamLeaderBody).username)
    return jsonify(teams.team_as_json(team, api_user()))


@bp.post("/teams/<int:team_id>/merge")
@token_required
def merge_teams(team_id: int):
    """Merge team team_id into team ``into``: the first leader's call records it (202), the other's does it (200)."""
    team = teams.get_team(team_id)
    into = teams.get_team(parse_body(TeamMergeBody).into)
    if teams.merge(team, into, api_user()):
        return jsonify(status="merged", team=teams.team_as_json(into, api_user()))
    return jsonify(status="requested", team=team_id, into=into.id), 202
