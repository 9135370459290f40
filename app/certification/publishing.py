"""Publishing a task's approved labels as a dataset version, for shift leaders and organisers."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.auth.decorators import roles_required
from app.certification import bp
from app.extensions import db
from app.models import DatasetVersion, LabellingTask, Role
from app.services.datasets import publishing
from app.services.datasets.version_files import summary_of
from app.services.errors import Refused

PUBLISHERS = (Role.SHIFT_LEADER, Role.ORGANISER)


class PublishForm(FlaskForm):
    """Where to publish and how to split."""

    slug = StringField("Dataset slug (an existing dataset gets a new version)", validators=[Length(max=100)])
    title = StringField("Title (of a new dataset)", validators=[Optional(), Length(max=200)])
    test_fraction = FloatField(
        "Test fraction of the lumisections",
        default=publishing.DEFAULT_TEST_FRACTION,
        validators=[InputRequired(), NumberRange(min=0.01, max=0.99)],
    )
    public_share = FloatField(
        "Public share of the test rows",
        default=publishing.DEFAULT_PUBLIC_SHARE,
        validators=[InputRequired(), NumberRange(min=0.01, max=0.99)],
    )
    seed = IntegerField("Seed", default=0, validators=[InputRequired(), NumberRange(min=0, max=2**31 - 1)])
    submit = SubmitField("Publish")


@bp.route("/tasks/<int:task_id>/publish", methods=["GET", "POST"])
@roles_required(*PUBLISHERS)
def publish(task_id: int):
    """Publish the task's approved labels as a new dataset version split by run."""
    task = db.get_or_404(LabellingTask, task_id)
    form = PublishForm(data={"slug": publishing.default_slug(task.name), "title": task.name})
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        try:
            published = publishing.publish(
                task,
                slug=form.slug.data.strip() or None,
                title=(form.title.data or "").strip() or None,
                test_fraction=form.test_fraction.data,
                public_share=form.public_share.data,
                seed=form.seed.data,
                created_by=current_user,
            )
        except Refused as refused:
            problems, status = refused.problems, refused.status
        else:
            version = published.version
            flash(f"Published {version.dataset.slug} version {version.number}.", "success")
            return redirect(url_for("certification.published", task_id=task.id, version_id=version.id))
    elif form.is_submitted():
        status = 400
    approved = publishing.approved_runs(task)
    return render_template(
        "certification/publish.html", task=task, form=form, problems=problems, approved=approved
    ), status


@bp.route("/tasks/<int:task_id>/published/<int:version_id>")
@roles_required(*PUBLISHERS)
def published(task_id: int, version_id: int):
    """What a published version holds on each side, and the way to a competition on it."""
    task = db.get_or_404(LabellingTask, task_id)
    version = db.get_or_404(DatasetVersion, version_id)
    return render_template("certification/publish.html", task=task, version=version, summary=summary_of(version))
