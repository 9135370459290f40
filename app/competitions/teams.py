"""Team pages of a competition: one's team, creating and joining one by its link, leaving, the lead, merges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.auth.forms import EmptyForm
from app.competitions import bp
from app.competitions.forms import MergeForm, TeamForm
from app.competitions.routes import get_competition, page_context
from app.extensions import db
from app.models import Competition, Team, TeamMergeRequest
from app.services.competitions import teams
from app.services.errors import Refused


def _merge_form(competition: Competition, team: Team | None) -> MergeForm:
    form = MergeForm()
    form.other.choices = [
        SelectChoice(t.id, t.name) for t in teams.teams_of(competition) if team is None or t.id != team.id
    ]
    return form


def _page(competition: Competition, status: int = 200, **forms):
    """The team page: the caller's team, or how to create or join one; every team of the competition."""
    context = page_context(competition, "team")
    team = context["team"]
    return render_template(
        "competitions/team.html",
        teams=teams.teams_of(competition),
        requests=teams.merge_requests(team) if team else [],
        submitted=teams.counted_submissions(team) if team else 0,
        team_form=forms.get("team_form") or TeamForm(),
        merge_form=forms.get("merge_form") or _merge_form(competition, team),
        **context,
    ), status


def _attempt(competition: Competition, change: Callable[[], Any], message: Callable[[Any], str], **forms):
    """Carry out a change of teams: back to the team page saying what it did, or the refusal with its status."""
    try:
        done = change()
    except Refused as refused:
        flash(refused.message, "danger")
        return _page(competition, refused.status, **forms)
    flash(message(done), "success")
    return redirect(url_for("competitions.team", slug=competition.slug))


@bp.route("/competitions/<slug>/team")
def team(slug: str):
    """The caller's team (members, invite link, leave, merges), or how to create or join one."""
    return _page(get_competition(slug))


@bp.route("/competitions/<slug>/team/create", methods=["POST"])
@login_required
def create_team(slug: str):
    """Create a team led by the caller."""
    competition = get_competition(slug)
    form = TeamForm()
    if not form.validate_on_submit():
        return _page(competition, 400, team_form=form)
    return _attempt(
        competition,
        lambda: teams.create(competition, current_user, form.name.data),
        lambda created: f"Team {created.name!r} created: share its invite link.",
        team_form=form,
    )


@bp.route("/competitions/<slug>/teams/join/<token>", methods=["GET", "POST"])
@login_required
def join_team(slug: str, token: str):
    """An invite link: the team it leads to, and a button that joins it."""
    competition = get_competition(slug)
    form = EmptyForm()
    if form.validate_on_submit():
        return _attempt(
            competition,
            lambda: teams.join(competition, current_user, token),
            lambda joined: f"You joined team {joined.name!r}.",
        )
    try:
        invited = teams.by_invite_token(competition, token)
    except Refused as refused:
        flash(refused.message, "danger")
        return _page(competition, refused.status)
    return render_template(
        "competitions/team_join.html", invited=invited, form=form, **page_context(competition, "team")
    ), (400 if form.is_submitted() else 200)


@bp.route("/teams/<int:team_id>/leave", methods=["POST"])
@login_required
def leave_team(team_id: int):
    """Leave one's team."""
    team = db.get_or_404(Team, team_id)
    competition, name = team.competition, team.name
    if not EmptyForm().validate_on_submit():
        return _page(competition, 400)
    return _attempt(competition, lambda: teams.leave(team, current_user), lambda _: f"You left team {name!r}.")


@bp.route("/teams/<int:team_id>/leader/<username>", methods=["POST"])
@login_required
def hand_over_lead(team_id: int, username: str):
    """The leader hands the lead to another member."""
    team = db.get_or_404(Team, team_id)
    if not EmptyForm().validate_on_submit():
        return _page(team.competition, 400)
    return _attempt(
        team.competition,
        lambda: teams.transfer_lead(team, current_user, username),
        lambda _: f"{username} leads the team now.",
    )


@bp.route("/teams/<int:team_id>/merge", methods=["POST"])
@login_required
def propose_merge(team_id: int):
    """A leader asks another team to merge, saying which of the two stays."""
    team = db.get_or_404(Team, team_id)
    competition = team.competition
    form = _merge_form(competition, team)
    if not form.validate_on_submit():
        return _page(competition, 400, merge_form=form)
    other = teams.get_team(form.other.data)
    kept, absorbed = (team, other) if form.keep.data == "ours" else (other, team)

    return _attempt(
        competition,
        lambda: teams.merge(absorbed, kept, current_user),
        lambda merged: (
            f"Teams merged into {kept.name!r}."
            if merged
            else f"Merge request sent: {other.name!r}'s leader accepts it on this page."
        ),
        merge_form=form,
    )


def _request(team_id: int, request_id: int) -> TeamMergeRequest:
    request = db.get_or_404(TeamMergeRequest, request_id)
    if team_id not in (request.team_id, request.into_id):
        raise Refused(f"No merge request {request_id} of team {team_id}.", 404)
    return request


@bp.route("/teams/<int:team_id>/merge-requests/<int:request_id>/accept", methods=["POST"])
@login_required
def accept_merge(team_id: int, request_id: int):
    """The other leader accepts a merge request: the teams merge now."""
    request = _request(team_id, request_id)
    competition, kept, absorbed = request.team.competition, request.into, request.team
    if not EmptyForm().validate_on_submit():
        return _page(competition, 400)

    return _attempt(
        competition,
        lambda: teams.merge(absorbed, kept, current_user),
        lambda merged: (
            f"Teams merged into {kept.name!r}."
            if merged
            else "Your agreement is recorded; the other leader's makes the merge."
        ),
    )


@bp.route("/teams/<int:team_id>/merge-requests/<int:request_id>/drop", methods=["POST"])
@login_required
def drop_merge(team_id: int, request_id: int):
    """Either leader withdraws or declines a merge request."""
    request = _request(team_id, request_id)
    competition = request.team.competition
    if not EmptyForm().validate_on_submit():
        return _page(competition, 400)
    return _attempt(
        competition, lambda: teams.drop_merge_request(request, current_user), lambda _: "Merge request dropped."
    )
