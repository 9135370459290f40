"""Competition pages for viewers and participants."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from app.competitions import bp
from app.competitions.forms import JoinForm, SubmitForm
from app.downloads import send_stored
from app.extensions import db
from app.models import Competition, Phase, Submission
from app.models.types import utcnow
from app.services.competitions import eligibility, phases, submissions, teams
from app.services.competitions.quotas import days_open
from app.services.competitions.visibility import can_see_private, is_organiser
from app.services.errors import Refused
from app.services.markdown import render as render_markdown
from app.services.storage import accepts_direct_uploads, get_storage


def get_competition(slug: str) -> Competition:
    """The competition of the URL, or 404."""
    return db.one_or_404(db.select(Competition).where(Competition.slug == slug))


def page_context(competition: Competition, tab: str) -> dict:
    """What every tab of a competition page shows: the header, the caller's participation and quota."""
    user = current_user if current_user.is_authenticated else None
    participation = submissions.participation_of(competition, user) if user else None
    shown = phases.shown_phase(competition)
    windows = phases.windows_of(competition)
    now = utcnow()
    return {
        "competition": competition,
        "tab": tab,
        "participation": participation,
        "team": teams.team_of(competition, user),
        "quota": submissions.quota_for(competition, participation, phase=shown) if user else None,
        "organiser": is_organiser(user),
        "ineligible": eligibility.why_not(competition, user) if user else None,
        "private_visible": can_see_private(competition, user, shown),
        "phases": competition.phases,
        "windows": windows,
        "phase_states": [window.state(now).value for window in windows],
        # Phases whose private scores everyone sees: those that closed.
        "revealed_phases": {
            p.id for p, w in zip(competition.phases, windows, strict=True) if w.state(now) is Phase.CLOSED
        },
        "shown_phase": shown,
        "current_phase": phases.current_phase(competition),
    }


@bp.route("/competitions")
def index():
    """Every competition, grouped into open, upcoming and closed."""
    everything = db.session.execute(db.select(Competition).order_by(Competition.created_at.desc())).scalars()
    groups: dict[Phase, list[Competition]] = {phase: [] for phase in Phase}
    for competition in everything:
        groups[competition.phase()].append(competition)
    return render_template("competitions/index.html", groups=groups)


@bp.route("/competitions/<slug>")
def overview(slug: str):
    """The competition's overview, written by its organisers."""
    competition = get_competition(slug)
    return render_template(
        "competitions/overview.html",
        overview=render_markdown(competition.overview),
        join_form=JoinForm(),
        **page_context(competition, "overview"),
    )


@bp.route("/competitions/<slug>/data")
def data(slug: str):
    """The public files with their size and sha256, phase by phase: a phase's files are downloadable once it opened."""
    competition = get_competition(slug)
    context = page_context(competition, "data")
    files = competition.downloadable_files(every_phase=context["organiser"])
    return render_template("competitions/data.html", files=files, **context)


@bp.route("/competitions/<slug>/rules")
def rules(slug: str):
    """The limits and the scoring, spelled out."""
    competition = get_competition(slug)
    days = days_open(teams.opened_at(competition), utcnow())
    return render_template(
        "competitions/rules.html",
        join_form=JoinForm(),
        merge_limit={"days": days, "submissions": days * competition.daily_limit},
        **page_context(competition, "rules"),
    )


@bp.route("/competitions/<slug>/join", methods=["POST"])
@login_required
def join(slug: str):
    """Join after ticking the rules box."""
    competition = get_competition(slug)
    form = JoinForm()
    if not form.validate_on_submit():
        flash("Tick the box to accept the rules before joining.", "warning")
        return redirect(url_for("competitions.rules", slug=slug))
    try:
        submissions.join(competition, current_user)
    except Refused as refused:
        flash(refused.message, "danger")
        return render_template(
            "competitions/rules.html", join_form=form, **page_context(competition, "rules")
        ), refused.status
    db.session.commit()
    flash(f"You joined {competition.title}. Good luck!", "success")
    return redirect(url_for("competitions.submit", slug=slug))


@bp.route("/competitions/<slug>/files/<name>")
@login_required
def download(slug: str, name: str):
    """Download a public file (participants only)."""
    competition = get_competition(slug)
    file = competition.public_file(name, every_phase=is_organiser(current_user))
    if file is None:
        abort(404)
    if submissions.participation_of(competition, current_user) is None and not is_organiser(current_user):
        flash("Join the competition to download its files.", "warning")
        return redirect(url_for("competitions.rules", slug=slug))
    return send_stored(file.storage_key, file.name, file.sha256)


@bp.route("/competitions/<slug>/submit", methods=["GET", "POST"])
@login_required
def submit(slug: str):
    """The upload form, with the caller's remaining quota."""
    competition = get_competition(slug)
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            submission = submit_upload(
                competition, form.file.data, description=form.description.data or "", phase=form.phase.data or None
            )
        except Refused as refused:
            flash(refused.message, "danger")
            return render_template(
                "competitions/submit.html",
                form=form,
                direct_upload=_direct_upload_settings(),
                **page_context(competition, "submit"),
            ), refused.status
        flash(f"Submission {submission.id} is queued for scoring.", "success")
        return redirect(url_for("competitions.my_submissions", slug=slug))
    status = 400 if form.is_submitted() else 200
    current = phases.current_phase(competition)
    if not form.is_submitted() and current is not None:
        form.phase.data = current.name
    return render_template(
        "competitions/submit.html",
        form=form,
        direct_upload=_direct_upload_settings(),
        **page_context(competition, "submit"),
    ), status


def submit_upload(competition: Competition, upload: FileStorage, **details: Any) -> Submission:
    """Submit a file posted with a form as the signed-in user; details as submissions.submit takes them."""
    return submissions.submit(competition, current_user, upload.stream, file_name=upload.filename, **details)


def _direct_upload_settings() -> dict | None:
    """How the submit page sends files straight to the store, or None when it posts them (filesystem)."""
    if not accepts_direct_uploads(get_storage()):
        return None
    return {
        "part_size": current_app.config["UPLOAD_PART_SIZE"],
        "multipart_threshold": current_app.config["UPLOAD_MULTIPART_THRESHOLD"],
    }


@bp.route("/competitions/<slug>/submissions")
@login_required
def my_submissions(slug: str):
    """The caller's submissions, with live status and the choice of finals."""
    competition = get_competition(slug)
    rows = submissions.submissions_of(competition, current_user)
    return render_template(
        "competitions/my_submissions.html", submissions=rows, **page_context(competition, "submissions")
    )
