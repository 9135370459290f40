"""Submission views."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.forms import EmptyForm
from app.downloads import send_stored
from app.extensions import db
from app.models import Competition, Submission
from app.services.competitions import leaderboards
from app.services.competitions.charts import curve_figures
from app.services.competitions.submissions import select_final, submissions_of, unselect_final
from app.services.competitions.visibility import can_see_private, can_see_submission, can_select, submission_as_json
from app.services.errors import Refused
from app.submissions import bp
from app.templating import format_score


def _visible(submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can_see_submission(submission, current_user):
        abort(404)  # another participant's submission does not exist for the caller
    return submission


@bp.route("/submissions/<int:submission_id>")
@login_required
def detail(submission_id: int):
    """A submission: status, scores, provenance, and its ROC and precision-recall curves."""
    submission = _visible(submission_id)
    private_ok = can_see_private(submission.competition, current_user, submission.phase)
    sides = ("public", "private") if private_ok else ("public",)
    return render_template(
        "submissions/detail.html",
        submission=submission,
        view=submission_as_json(submission, current_user),
        figures=curve_figures(submission.details, sides),
        select_form=EmptyForm(),
    )


@bp.route("/submissions/<int:submission_id>/file")
@login_required
def file(submission_id: int):
    """The submitted file itself, for its author and the organisers."""
    submission = _visible(submission_id)
    return send_stored(submission.file_key, submission.file_name, submission.file_sha256)


@bp.route("/competitions/<slug>/submissions/status.json")
@login_required
def statuses(slug: str):
    """The caller's (and their team's) submissions' status, polled by the My submissions page."""
    competition = db.one_or_404(db.select(Competition).where(Competition.slug == slug))
    ids = [int(i) for i in request.args.get("ids", "").split(",") if i.isdigit()][:100]
    rows = submissions_of(competition, current_user, ids=ids)
    return jsonify(submissions=[_status_as_json(s) for s in rows])


def _status_as_json(submission: Submission) -> dict:
    """A submission as the API shows it, with its scores as the page writes them, so a poll matches a reload."""
    view = submission_as_json(submission, current_user)
    view["shown"] = {field: format_score(view.get(field)) for field in ("public_score", "private_score")}
    return view


@bp.route("/submissions/<int:submission_id>/select", methods=["POST"])
@login_required
def toggle_selection(submission_id: int):
    """Pick or unpick a submission as a final for the private leaderboard."""
    submission = _visible(submission_id)
    if not can_select(submission, current_user):
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            if submission.selected:
                unselect_final(submission)
                flash(f"Submission {submission.id} is no longer a final.", "info")
            else:
                select_final(submission)
                flash(f"Submission {submission.id} is selected for the private leaderboard.", "success")
            leaderboards.invalidate(submission.competition)
        except Refused as refused:
            flash(refused.message, "warning")
    return redirect(request.referrer or url_for("competitions.my_submissions", slug=submission.competition.slug))
