"""API routes of competitions: list, details, join, files, submissions, leaderboards and organisers' exports."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user, api_user_if_any, roles_required, token_required
from app.api.schemas import JoinBody, parse_body, posted_predictions
from app.downloads import send_stored
from app.errors import api_error
from app.extensions import db
from app.models import Competition, Role, SubmissionStatus
from app.models.exports import ExportStatus, SubmissionExport
from app.services.competitions import leaderboards, phases, submissions
from app.services.competitions.exports import export_as_json, request_export
from app.services.competitions.visibility import can_see_private, is_organiser, submission_as_json

BASELINE_VALUES = {"true": True, "1": True, "false": False, "0": False, "": False}


def _competition(slug: str) -> Competition:
    return db.one_or_404(
        db.select(Competition).where(Competition.slug == slug), description=f"No competition {slug!r}."
    )


def competition_as_json(competition: Competition) -> dict:
    """The public facts of a competition."""
    return {
        "slug": competition.slug,
        "title": competition.title,
        "phase": competition.phase().value,
        "metric": competition.metric,
        "opens_at": competition.opens_at.isoformat() if competition.opens_at else None,
        "closes_at": competition.closes_at.isoformat() if competition.closes_at else None,
        "daily_limit": competition.daily_limit,
        "total_limit": competition.total_limit,
        "final_selections": competition.final_selections,
        "participants": len(competition.participations),
    }


@bp.get("/competitions")
def list_competitions():
    """Every competition, newest first."""
    rows = db.session.execute(db.select(Competition).order_by(Competition.created_at.desc())).scalars()
    return jsonify(competitions=[competition_as_json(c) for c in rows])


@bp.get("/competitions/<slug>")
def competition_details(slug: str):
    """A competition, with the caller's participation and quota when a token is sent."""
    competition = _competition(slug)
    body = competition_as_json(competition)
    body.update(
        id_column=competition.id_column,
        target_column=competition.target_column,
        overview=competition.overview,
        live=competition.live,
        live_daily_limit=competition.live_daily_limit if competition.live else None,
    )
    user = api_user_if_any()
    participation = submissions.participation_of(competition, user) if user else None
    body["joined"] = participation is not None
    body["quota"] = submissions.quota_for(competition, participation).as_json() if user else None
    current = phases.current_phase(competition)
    body["current_phase"] = current.name if current is not None else None
    body["phases"] = [phase.name for phase in competition.phases]
    return jsonify(body)


@bp.get("/competitions/<slug>/phases")
def list_phases(slug: str):
    """The competition's phases in order, with their dates, state (upcoming, open, closed) and the current one."""
    competition = _competition(slug)
    return jsonify(phases=phases.phases_as_json(competition), competition=competition.slug)


@bp.post("/competitions/<slug>/join")
@token_required
def join_competition(slug: str):
    """Join and accept the rules: the body must say {"accept_rules": true}."""
    competition = _competition(slug)
    if not parse_body(JoinBody).accept_rules:
        return api_error(400, 'Joining means accepting the rules: send {"accept_rules": true}.')
    submissions.join(competition, api_user())
    db.session.commit()
    return jsonify(joined=True, competition=competition.slug)


def _joined_or_error(competition: Competition):
    if submissions.participation_of(competition, api_user()) is None and not is_organiser(api_user()):
        return api_error(403, f"Join the competition first: POST /api/v1/competitions/{competition.slug}/join.")
    return None


@bp.get("/competitions/<slug>/files")
@token_required
def list_files(slug: str):
    """The public files of the competition with their size and sha256."""
    competition = _competition(slug)
    if (refused := _joined_or_error(competition)) is not None:
        return refused
    every_phase = is_organiser(api_user())
    files = [
        {"name": f.name, "size": f.size, "sha256": f.sha256}
        for f in competition.downloadable_files(every_phase=every_phase)
    ]
    return jsonify(files=files)


@bp.get("/competitions/<slug>/files/<name>")
@token_required
def download_file(slug: str, name: str):
    """One public file: streamed, or a redirect to a short-lived storage URL."""
    competition = _competition(slug)
    if (refused := _joined_or_error(competition)) is not None:
        return refused
    file = competition.public_file(name, every_phase=is_organiser(api_user()))
    if file is None:
        return api_error(404, f"The competition has no public file {name!r}.")
    return send_stored(file.storage_key, file.name, file.sha256)


@bp.post("/competitions/<slug>/submissions")
@token_required
def create_submission(slug: str):
    """Upload predictions (multipart `file`, optional `description`, `phase`, `baseline` for organisers); 202 once
    queued. A submission goes to the phase open now, which must be the one named if `phase` is given."""
    competition = _competition(slug)
    posted = posted_predictions()
    baseline = BASELINE_VALUES.get(request.form.get("baseline", "false").strip().lower())
    if baseline is None:
        return api_error(400, "baseline must be true or false.")
    phase = request.form.get("phase") or None
    submission = submissions.submit(competition, api_user(), **posted, baseline=baseline, phase=phase)
    # Accepted means queued; a worker may already have picked it up by now, which the status route tells.
    return jsonify(id=submission.id, status=SubmissionStatus.QUEUED.value), 202


@bp.get("/competitions/<slug>/submissions")
@token_required
def my_submissions(slug: str):
    """The caller's submissions to the competition, newest first."""
    rows = submissions.submissions_of(_competition(slug), api_user())
    return jsonify(submissions=[submission_as_json(s, api_user()) for s in rows])


@bp.get("/competitions/<slug>/leaderboard")
def leaderboard(slug: str):
    """A phase's public board (`?phase=NAME`, default the current phase), or its private one once the phase closed
    (organisers: always). A phase not yet open has an empty board."""
    competition = _competition(slug)
    board = leaderboards.board_named(request.args.get("board", "public"))
    if board is None:
        return api_error(400, "board must be 'public' or 'private'.")
    phase = phases.phase_named(competition, request.args.get("phase"))
    if board == "private" and not can_see_private(competition, api_user_if_any(), phase):
        what = "competition" if len(competition.phases) == 1 else "phase"
        return api_error(403, f"The private leaderboard is revealed when the {what} closes.")
    rows = [row.as_json() for row in leaderboards.get(competition, board, phase)]
    return jsonify(board=board, competition=competition.slug, phase=phase.name, rows=rows)


@bp.post("/competitions/<slug>/exports")
@roles_required(Role.ORGANISER)
def start_export(slug: str):
    """Organisers: start building the zip of every submission file and the scores (or get the one building)."""
    export = request_export(_competition(slug), api_user())
    return jsonify(export_as_json(export)), 202


def _export(export_id: int) -> SubmissionExport | None:
    return db.session.get(SubmissionExport, export_id)


@bp.get("/exports/<int:export_id>")
@roles_required(Role.ORGANISER)
def export_status(export_id: int):
    """Organisers: where an export stands; ``download_url`` once it is ready."""
    export = _export(export_id)
    if export is None:
        return api_error(404, f"No export {export_id}.")
    return jsonify(export_as_json(export))


@bp.get("/exports/<int:export_id>/file")
@roles_required(Role.ORGANISER)
def download_export(export_id: int):
    """Organisers: the export's zip, streamed with HTTP ranges, or a redirect to a short-lived storage URL."""
    export = _export(export_id)
    if export is None:
        return api_error(404, f"No export {export_id}.")
    if export.status is not ExportStatus.READY:
        return api_error(409, f"Export {export_id} is {export.status.value}, not ready.")
    key, sha256 = export.stored()
    return send_stored(key, export.file_name, sha256)
