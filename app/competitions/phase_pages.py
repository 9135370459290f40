"""The organisers' phases page: the competition's phases, and a final phase built from a labelling task."""

from __future__ import annotations

from datetime import UTC

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.decorators import roles_required
from app.competitions import bp
from app.competitions.forms import FinalPhaseForm
from app.competitions.routes import get_competition, page_context
from app.extensions import db
from app.models import LabellingTask, Role
from app.models.types import utcnow
from app.services.competitions import final_phase
from app.services.errors import Refused


@bp.route("/competitions/<slug>/phases", methods=["GET", "POST"])
@roles_required(Role.ORGANISER)
def phases(slug: str):
    """The phases with their dates, and the form that adds a final phase on runs approved after a cutoff."""
    competition = get_competition(slug)
    form = FinalPhaseForm()
    tasks = db.session.execute(db.select(LabellingTask).order_by(LabellingTask.name)).scalars().all()
    form.task.choices = [(task.id, f"{task.name} (#{task.id})") for task in tasks]
    if not form.is_submitted():
        version = competition.dataset_version
        form.task.data = version.task_id
        form.approved_after.data = version.created_at.replace(tzinfo=None, second=0, microsecond=0)
        form.opens_at.data = utcnow().replace(tzinfo=None, second=0, microsecond=0)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            phase = final_phase.add_final_phase(
                competition,
                name=form.name.data.strip(),
                task=db.session.get_one(LabellingTask, form.task.data),
                approved_after=form.approved_after.data.replace(tzinfo=UTC),
                opens_at=form.opens_at.data.replace(tzinfo=UTC),
                closes_at=form.closes_at.data.replace(tzinfo=UTC) if form.closes_at.data else None,
                created_by=current_user,
            )
        except Refused as refused:
            problems = refused.problems
        else:
            version = phase.version
            flash(f"Phase {phase.name!r} added on {version.dataset.slug} v{version.number}: {version.notes}", "success")
            return redirect(url_for("competitions.phases", slug=slug))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "competitions/phases.html", form=form, problems=problems, **page_context(competition, "phases")
    ), status
