"""Organiser pages of the bulk export: start building the zip of every submission file, download it when ready."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from app.auth.decorators import roles_required
from app.auth.forms import EmptyForm
from app.competitions import bp
from app.competitions.routes import get_competition
from app.downloads import send_stored
from app.extensions import db
from app.models import Role
from app.models.exports import ExportStatus, SubmissionExport
from app.services.competitions.exports import latest_ready, request_export


@bp.route("/competitions/<slug>/export", methods=["POST"])
@roles_required(Role.ORGANISER)
def start_export(slug: str):
    """Start a job building the zip of every submission file and the scores."""
    competition = get_competition(slug)
    if EmptyForm().validate_on_submit():
        export = request_export(competition, current_user)
        flash(
            f"Export #{export.id} is being built; download it from this page's link once it is ready.",
            "info",
        )
    return redirect(url_for("competitions.all_submissions", slug=slug))


@bp.route("/competitions/<slug>/export.zip")
@roles_required(Role.ORGANISER)
def export_zip(slug: str):
    """The newest finished export, or back to the page saying where the export stands."""
    competition = get_competition(slug)
    ready = latest_ready(competition)
    if ready is not None:
        key, sha256 = ready.stored()
        return send_stored(key, ready.file_name, sha256)
    newest = db.session.execute(
        db.select(SubmissionExport)
        .where(SubmissionExport.competition_id == competition.id)
        .order_by(SubmissionExport.id.desc())
        .limit(1)
    ).scalar()
    if newest is None:
        flash("No export yet: build one first.", "warning")
    elif newest.status is ExportStatus.BUILDING:
        flash(f"Export #{newest.id} is still being built; try again in a moment.", "info")
    else:
        flash(newest.error or "The last export failed; start it again.", "danger")
    return redirect(url_for("competitions.all_submissions", slug=slug))
