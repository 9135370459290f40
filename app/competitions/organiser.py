"""Organiser pages: import a bundle, edit settings, see every submission, export, rescore."""

from __future__ import annotations

from datetime import UTC

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import roles_required
from app.auth.forms import EmptyForm
from app.competitions import bp
from app.competitions.forms import BaselineForm, BundleForm, DatasetCompetitionForm, SettingsForm
from app.competitions.routes import get_competition, page_context, submit_upload
from app.errors import id_argument
from app.extensions import db
from app.models import Competition, DatasetVersion, Rescore, Role, Submission
from app.services.competitions import leaderboards, on_datasets, scores_export
from app.services.competitions.bundles import import_bundle
from app.services.errors import Refused
from app.services.queue import enqueue


@bp.route("/competitions/new", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def new():
    """Create a competition from an uploaded bundle zip, or on a dataset version (?dataset_version=ID)."""
    if "dataset_version" in request.args:
        return _new_on_dataset(id_argument("dataset_version"))
    form = BundleForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            competition = import_bundle(form.bundle.data.stream, created_by=current_user)
        except Refused as refused:
            problems = refused.problems
        else:
            return _created(competition, f"Competition {competition.title!r} imported.")
    status = 400 if form.is_submitted() else 200
    return render_template("competitions/new.html", form=form, problems=problems), status


def _created(competition: Competition, message: str):
    """Say the competition was created, and show it."""
    flash(message, "success")
    return redirect(url_for("competitions.overview", slug=competition.slug))


def _utc(value):
    return value.replace(tzinfo=UTC) if value else None


def _new_on_dataset(version_id: int | None):
    """The prefilled form of a competition on a published dataset version; nothing is uploaded."""
    version = db.session.get(DatasetVersion, version_id) if version_id else None
    if version is None:
        abort(404, description="No such dataset version.")
    form = DatasetCompetitionForm(
        data={
            "slug": version.dataset.slug,
            "title": version.dataset.title,
            "overview": on_datasets.overview_for(version),
        }
    )
    problems: list[str] = []
    if form.validate_on_submit():
        settings = on_datasets.CompetitionSettings(
            slug=form.slug.data.strip(),
            title=form.title.data,
            overview=form.overview.data or "",
            metric=form.metric.data,
            id_column=form.id_column.data.strip(),
            target_column=form.target_column.data.strip(),
            public_fraction=form.public_fraction.data,
            split_seed=form.split_seed.data,
            opens_at=_utc(form.opens_at.data),
            closes_at=_utc(form.closes_at.data),
            daily_limit=form.daily_limit.data,
            total_limit=form.total_limit.data,
            final_selections=form.final_selections.data,
            live=form.live.data,
            live_daily_limit=form.live_daily_limit.data or 1,
        )
        try:
            competition = on_datasets.create_competition(version, settings, created_by=current_user)
        except Refused as refused:
            problems = refused.problems
        else:
            return _created(
                competition, f"Competition {competition.title!r} created on {version.dataset.slug} v{version.number}."
            )
    status = 400 if form.is_submitted() else 200
    return render_template("competitions/new_from_dataset.html", form=form, version=version, problems=problems), status


@bp.route("/competitions/<slug>/settings", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def settings(slug: str):
    """Change the title, overview, dates and limits."""
    competition = get_competition(slug)
    form = SettingsForm(obj=competition)
    if form.validate_on_submit():
        opens_at = form.opens_at.data.replace(tzinfo=UTC) if form.opens_at.data else None
        closes_at = form.closes_at.data.replace(tzinfo=UTC) if form.closes_at.data else None
        if opens_at and closes_at and closes_at <= opens_at:
            form.closes_at.errors.append("The close must come after the opening.")
        else:
            form.populate_obj(competition)
            competition.opens_at, competition.closes_at = opens_at, closes_at
            db.session.commit()
            leaderboards.invalidate(competition)
            flash("Settings saved.", "success")
            return redirect(url_for("competitions.settings", slug=slug))
    status = 400 if form.is_submitted() else 200
    return render_template("competitions/settings.html", form=form, **page_context(competition, "settings")), status


@bp.route("/competitions/<slug>/all-submissions")
@roles_required(Role.ORGANISER)
def all_submissions(slug: str):
    """Every submission of every participant, newest first."""
    competition = get_competition(slug)
    page = db.paginate(
        db.select(Submission).where(Submission.competition_id == competition.id).order_by(Submission.id.desc()),
        per_page=50,
    )
    rescores = db.session.execute(
        db.select(Rescore).where(Rescore.competition_id == competition.id).order_by(Rescore.id.desc()).limit(5)
    ).scalars()
    return render_template(
        "competitions/all_submissions.html",
        page=page,
        rescores=list(rescores),
        form=EmptyForm(),
        **page_context(competition, "all"),
    )


@bp.route("/competitions/<slug>/baseline", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def submit_baseline(slug: str):
    """Submit a baseline without joining: listed on the leaderboard under its name, never ranked, not charged."""
    competition = get_competition(slug)
    form = BaselineForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            submission = submit_upload(competition, form.file.data, description=form.name.data, baseline=True)
        except Refused as refused:
            flash(refused.message, "danger")
            status = refused.status
        else:
            flash(f"Baseline {submission.description!r} (submission {submission.id}) is queued for scoring.", "success")
            return redirect(url_for("competitions.all_submissions", slug=slug))
    return render_template("competitions/baseline.html", form=form, **page_context(competition, "all")), status


@bp.route("/submissions/<int:submission_id>/baseline", methods=["POST"])
@roles_required(Role.ORGANISER)
def toggle_baseline(submission_id: int):
    """Mark a submission as a baseline (listed, not ranked), or unmark it."""
    submission = db.get_or_404(Submission, submission_id)
    if submission.participation_id is None:
        flash(f"Submission {submission.id} was submitted as a baseline, by no participant: it stays one.", "warning")
    elif EmptyForm().validate_on_submit():
        submission.is_baseline = not submission.is_baseline
        if submission.is_baseline and submission.selection is not None:
            db.session.delete(submission.selection)
        db.session.commit()
        leaderboards.invalidate(submission.competition)
        state = "marked as a baseline" if submission.is_baseline else "ranked again"
        flash(f"Submission {submission.id} {state}.", "success")
    return redirect(url_for("competitions.all_submissions", slug=submission.competition.slug))


@bp.route("/competitions/<slug>/scores.csv")
@roles_required(Role.ORGANISER)
def scores_csv(slug: str):
    """Every submission's scores and provenance as CSV."""
    competition = get_competition(slug)
    rows = db.session.execute(
        db.select(Submission).where(Submission.competition_id == competition.id).order_by(Submission.id)
    ).scalars()
    return Response(
        scores_export.scores_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{competition.slug}-scores.csv"'},
    )


@bp.route("/competitions/<slug>/rescore", methods=["POST"])
@roles_required(Role.ORGANISER)
def rescore(slug: str):
    """Score every submission again in a job; the page then lists the scores that changed."""
    competition = get_competition(slug)
    if EmptyForm().validate_on_submit():
        run = Rescore(competition_id=competition.id, requested_by_id=current_user.id)
        db.session.add(run)
        db.session.commit()
        enqueue("workers.rescoring.rescore_competition", run.id, timeout=6 * 3600)
        flash("Rescoring started; the changed scores appear below when it is done.", "info")
    return redirect(url_for("competitions.all_submissions", slug=slug))
