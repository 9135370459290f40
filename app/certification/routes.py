"""Certification views: task list, a task's runs, the run page with its form and review."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import roles_required
from app.certification import bp
from app.certification.forms import CertifyForm, ReviewForm, parse_ranges
from app.extensions import db
from app.models import Certification, LabellingTask, Role, Run, TaskRun
from app.models.certification import COMPONENTS
from app.services import certification as service
from app.services import lumimask
from app.services.charts import run_conditions

READERS = (Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER)


def _task(task_id: int) -> LabellingTask:
    return db.get_or_404(LabellingTask, task_id)


def _certifications(task: LabellingTask) -> dict[int, Certification]:
    rows = db.session.execute(db.select(Certification).where(Certification.task_id == task.id)).scalars()
    return {c.run_number: c for c in rows}


@bp.route("/tasks")
@roles_required(*READERS)
def tasks():
    """Every labelling task with its progress."""
    everything = db.session.execute(db.select(LabellingTask).order_by(LabellingTask.id.desc())).scalars().all()
    progress = {t.id: _certifications(t) for t in everything}
    return render_template("certification/tasks.html", tasks=everything, progress=progress)


@bp.route("/tasks/<int:task_id>")
@roles_required(*READERS)
def task(task_id: int):
    """The task's runs and where each stands; the next run to certify."""
    task = _task(task_id)
    certifications = _certifications(task)
    next_run = _next_run(task, certifications)
    return render_template("certification/task.html", task=task, certifications=certifications, next_run=next_run)


def _next_run(task: LabellingTask, certifications: dict[int, Certification]) -> int | None:
    """The first run nobody certified and no other shifter is working on."""
    busy = service.claimed_by_others(task, current_user)
    return next(
        (tr.run_number for tr in task.runs if tr.run_number not in certifications and tr.run_number not in busy), None
    )


@bp.route("/runs/<int:run_number>")
@roles_required(*READERS)
def run_overview(run_number: int):
    """A run's conditions and its certifications in every task."""
    run = db.get_or_404(Run, run_number)
    certifications = db.session.execute(
        db.select(Certification).where(Certification.run_number == run_number).order_by(Certification.created_at)
    ).scalars()
    tasks = db.session.execute(
        db.select(LabellingTask).join(TaskRun).where(TaskRun.run_number == run_number).order_by(LabellingTask.id)
    ).scalars()
    return render_template(
        "certification/run_overview.html",
        run=run,
        certifications=list(certifications),
        tasks=list(tasks),
        chart=run_conditions(run, []),
    )


@bp.route("/tasks/<int:task_id>/golden.json")
@roles_required(*READERS)
def golden(task_id: int):
    """Download the task's golden JSON."""
    task = _task(task_id)
    return Response(
        lumimask.dumps(service.golden_mask(task)),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="task-{task.id}-golden.json"'},
    )


def _body(task: LabellingTask, run: Run, form: CertifyForm) -> dict:
    """The API body of what the form says; ValueError when the ranges do not read."""
    ticked = set(request.form.getlist("checklist"))
    return {
        "run_number": run.run_number,
        "reco": task.reco.value,
        **{c: getattr(form, c).data for c in COMPONENTS},
        **{f"{c}_lowstat": getattr(form, f"{c}_lowstat").data for c in COMPONENTS},
        "bad_lumisections": parse_ranges(form.bad_ranges.data or ""),
        "reference_run": form.reference_run.data,
        "trackermap": form.trackermap.data,
        "checklist": {name: name in ticked for name in task.checklists},
        "comment": form.comment.data or "",
    }


@bp.route("/tasks/<int:task_id>/runs/<int:run_number>", methods=["GET", "POST"])
@roles_required(*READERS)
def run(task_id: int, run_number: int):
    """The certification page of one run: conditions chart, the form, or the certification and its review."""
    task = _task(task_id)
    run = db.get_or_404(Run, run_number)
    if run_number not in {tr.run_number for tr in task.runs}:
        abort(404)
    certification = _certifications(task).get(run_number)
    form = CertifyForm()
    may_certify = current_user.has_role(Role.SHIFTER, Role.SHIFT_LEADER)
    status = 200
    if form.validate_on_submit() and may_certify:
        try:
            certification = service.certify(task, current_user, _body(task, run, form))
        except ValueError as error:
            flash(f"Bad lumisections: {error}", "danger")
            status = 400
        except service.CertificationRefused as refused:
            if refused.existing_id:
                flash(f"Run {run_number} was certified meanwhile; see below.", "warning")
                certification = _certifications(task).get(run_number)
            else:
                flash(refused.message, "danger")
            status = refused.status
        else:
            flash(f"Run {run_number} certified; a shift leader will review it.", "success")
            if form.submit_next.data:
                following = next(
                    (tr.run_number for tr in task.runs if tr.run_number not in _certifications(task)), None
                )
                if following:
                    return redirect(url_for("certification.run", task_id=task.id, run_number=following))
            return redirect(url_for("certification.task", task_id=task.id))
    elif form.is_submitted():
        status = 400 if may_certify else 403
    claimed = None
    if may_certify and certification is None and request.method == "GET":
        claimed = service.claim(task, run_number, current_user)
    bad = [(r.first, r.last) for r in certification.bad_ranges] if certification else []
    return render_template(
        "certification/run.html",
        task=task,
        run=run,
        certification=certification,
        form=form,
        may_certify=may_certify and certification is None,
        review_form=ReviewForm(),
        may_review=current_user.has_role(Role.SHIFT_LEADER),
        chart=run_conditions(run, bad),
        ticked=set(request.form.getlist("checklist")),
        claimed=claimed,
    ), status


@bp.route("/certifications/<int:certification_id>/reference", methods=["POST"])
@roles_required(Role.SHIFT_LEADER)
def promote_reference(certification_id: int):
    """Make the run a reference run from its run page."""
    certification = db.get_or_404(Certification, certification_id)
    if ReviewForm().validate_on_submit():
        try:
            service.promote_reference(certification, current_user)
            flash(f"Run {certification.run_number} is a reference run for {certification.reco.value}.", "success")
        except service.CertificationRefused as refused:
            flash(refused.message, "danger")
    return redirect(url_for("certification.run", task_id=certification.task_id, run_number=certification.run_number))


@bp.route("/certifications/<int:certification_id>/review", methods=["POST"])
@roles_required(Role.SHIFT_LEADER)
def review(certification_id: int):
    """Approve or reject a certification from its run page."""
    certification = db.get_or_404(Certification, certification_id)
    form = ReviewForm()
    if form.validate_on_submit():
        decision = "approve" if form.approve.data else "reject"
        try:
            service.review(certification, current_user, decision, form.comment.data or "")
            flash(f"Run {certification.run_number} {decision}d.", "success")
        except service.CertificationRefused as refused:
            flash(refused.message, "danger")
    return redirect(url_for("certification.run", task_id=certification.task_id, run_number=certification.run_number))
