"""The models page of a task: its sources with their live measures, activation and thresholds, and how
shifters use their suggestions."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FloatField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from app.auth.decorators import roles_required
from app.certification import bp
from app.extensions import db
from app.models import LabellingTask, Role
from app.services.errors import Refused
from app.services.suggestions import models_page, sources
from app.services.suggestions.measures import RUBBER_STAMP_RUNS, RUBBER_STAMP_SHARE

MANAGERS = (Role.SHIFT_LEADER, Role.ORGANISER)


class SourceForm(FlaskForm):
    """Activate or deactivate a source, or set its threshold."""

    threshold = FloatField("Threshold", validators=[InputRequired(), NumberRange(min=0, max=1)])
    save = SubmitField("Set threshold")
    activate = SubmitField("Activate")
    deactivate = SubmitField("Deactivate")


def _page(task: LabellingTask, status: int = 200):
    rows = models_page.source_rows(task)
    return render_template(
        "certification/models.html",
        task=task,
        rows=rows,
        forms={row.source.id: SourceForm(formdata=None, threshold=row.source.threshold) for row in rows},
        chart=models_page.live_chart([row.source for row in rows]),
        shifters=models_page.shifter_rows(task),
        rubber_stamp=(RUBBER_STAMP_RUNS, RUBBER_STAMP_SHARE),
    ), status


@bp.route("/tasks/<int:task_id>/models")
@roles_required(*MANAGERS)
def models(task_id: int):
    """The task's sources: live measures over time, activation, thresholds; shifters' use of suggestions."""
    return _page(db.get_or_404(LabellingTask, task_id))


@bp.route("/tasks/<int:task_id>/models/<int:source_id>", methods=["POST"])
@roles_required(*MANAGERS)
def change_source(task_id: int, source_id: int):
    """Activate or deactivate a source of the task, or set its threshold."""
    task = db.get_or_404(LabellingTask, task_id)
    source = sources.source_of(task, source_id)
    form = SourceForm()
    if form.activate.data or form.deactivate.data:
        form.threshold.validators = []  # the buttons beside the threshold do not change it
    if not form.validate_on_submit():
        problems = "; ".join(f"{error}" for errors in form.errors.values() for error in errors)
        flash(f"Nothing changed: {problems or 'the form was not complete'}.", "danger")
        db.session.rollback()
        return _page(task, 400)
    change = {"active": bool(form.activate.data)} if form.activate.data or form.deactivate.data else {}
    try:
        sources.change_source(source, current_user, threshold=None if change else form.threshold.data, **change)
    except Refused as refused:
        db.session.rollback()
        flash(refused.message, "danger")
        return _page(task, refused.status)
    if change:
        message = f"{source.name} is {'active' if source.active else 'inactive'}."
    else:
        message = f"{source.name} now suggests lumisections scored {source.threshold:g} or above."
    flash(message, "success")
    return redirect(url_for("certification.models", task_id=task.id))
