"""API routes of one submission: its status and scores, and final selection."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_user, token_required
from app.errors import api_error
from app.extensions import db
from app.models import Submission
from app.services.competitions import leaderboards
from app.services.competitions.submissions import select_final, unselect_final
from app.services.competitions.visibility import can_see_submission, can_select, submission_as_json


def _own_submission(submission_id: int) -> Submission | None:
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can_see_submission(submission, api_user()):
        return None  # someone else's submission does not exist, as far as the caller can tell
    return submission


@bp.get("/submissions/<int:submission_id>")
@token_required
def submission_status(submission_id: int):
    """Status and scores; the private score stays null until the caller may see it."""
    submission = _own_submission(submission_id)
    if submission is None:
        return api_error(404, f"No submission {submission_id}.")
    return jsonify(submission_as_json(submission, api_user()))


@bp.route("/submissions/<int:submission_id>/select", methods=["POST", "DELETE"])
@token_required
def select_submission(submission_id: int):
    """Pick (POST) or unpick (DELETE) a submission for the private leaderboard."""
    submission = _own_submission(submission_id)
    if submission is None or not can_select(submission, api_user()):
        return api_error(404, f"No submission {submission_id}.")
    if request.method == "POST":
        select_final(submission)
    else:
        unselect_final(submission)
    leaderboards.invalidate(submission.competition)
    return jsonify(id=submission.id, selected=submission.selected)
