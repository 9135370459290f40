"""Certification views: task list, a task's runs, the run page with its form and review."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import roles_required
from app.certification import bp
from app.certification.forms import CertifyForm, ChecklistsForm, ReviewForm, parse_accepted, parse_ranges, with_origins
from app.extensions import db
from app.models import Certification, LabellingTask, ReviewState, Role, Run, TaskRun
from app.models.certification import COMPONENTS, PROBLEM_CATEGORIES
from app.services.certification import cockpit, lumimask, queries, queue
from app.services.certification import workflow as service
from app.services.certification.agreement import task_agreement
from app.services.certification.reviewers import own_review_refusal
from app.services.certification.tasks import format_checklists, set_checklists
from app.services.errors import Refused
from app.services.runs import rr_compare
from app.services.runs.charts import run_conditions, shaded_ranges
from app.services.suggestions import models_page, on_page

READERS = (Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER)


def _task(task_id: int) -> LabellingTask:
    return db.get_or_404(LabellingTask, task_id)


def _visible(task: LabellingTask, certifications: list[Certification]) -> list[Certification]:
    """What the user may see of a run's certifications (double certification is blind)."""
    return [c for c in certifications if service.may_see(c, current_user)]


@bp.route("/tasks")
@roles_required(*READERS)
def tasks():
    """Every labelling task with its progress."""
    everything = db.session.execute(db.select(LabellingTask).order_by(LabellingTask.id.desc())).scalars().all()
    progress = queries.task_progress(everything)
    return render_template("certification/tasks.html", tasks=everything, progress=progress)


@bp.route("/tasks/<int:task_id>")
@roles_required(*READERS)
def task(task_id: int):
    """The task's runs and where each stands; the shifter's queue: runs sent back first, then the next run."""
    task = _task(task_id)
    certifications = queries.certifications_by_run(task)
    visible = {run: _visible(task, cs) for run, cs in certifications.items()}
    return render_template(
        "certification/task.html",
        task=task,
        certifications=visible,
        counts={run: len(cs) for run, cs in certifications.items()},
        rr=rr_compare.task_verdicts(task.id, visible, {tr.run_number: tr.run.ls_count for tr in task.runs}),
        returned=queue.returned(task, current_user),
        next_run=queue.next_run(task, current_user),
    )


@bp.route("/runs/<int:run_number>")
@roles_required(*READERS)
def run_overview(run_number: int):
    """A run's conditions and its certifications in every task."""
    run = db.get_or_404(Run, run_number)
    certifications = [
        c
        for c in db.session.execute(
            db.select(Certification).where(Certification.run_number == run_number).order_by(Certification.created_at)
        ).scalars()
        if service.may_see(c, current_user)
    ]
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
    """The API body of what the form says; ValueError when the ranges do not read.

    The form ticks each item of a checklist; the checklist is ticked when all of its items are.
    """
    ticked = set(request.form.getlist("checklist"))
    return {
        "run_number": run.run_number,
        "reco": task.reco.value,
        **{c: getattr(form, c).data for c in COMPONENTS},
        **{f"{c}_lowstat": getattr(form, f"{c}_lowstat").data for c in COMPONENTS},
        "bad_lumisections": with_origins(
            parse_ranges(form.bad_ranges.data or ""), parse_accepted(form.accepted.data or "")
        ),
        "reference_run": form.reference_run.data,
        "trackermap": form.trackermap.data,
        "checklist": {
            group["name"]: all(f"{group['name']}/{i}" in ticked for i in range(len(group["items"])))
            for group in task.checklists
        },
        "problem_categories": form.problem_categories.data or [],
        "bad_reason": form.bad_reason.data or "",
        "comment": form.comment.data or "",
    }


def _ticked_items(task: LabellingTask, certification: Certification) -> set[str]:
    """The checklist boxes to show ticked when changing a certification."""
    return {
        f"{group['name']}/{i}"
        for group in task.checklists
        if certification.checklist.get(group["name"])
        for i in range(len(group["items"]))
    }


@bp.route("/tasks/<int:task_id>/runs/<int:run_number>", methods=["GET", "POST"])
@roles_required(*READERS)
def run(task_id: int, run_number: int):
    """The certification page of one run: conditions chart, the certifications and their reviews, the form."""
    task = _task(task_id)
    run = db.get_or_404(Run, run_number)
    if run_number not in {tr.run_number for tr in task.runs}:
        abort(404)
    certifications = queries.certifications_by_run(task).get(run_number, [])
    may_certify = queue.may_certify(task, current_user, certifications)
    form = CertifyForm()
    editing = _editable(certifications, request.args.get("edit") or form.editing.data)
    if request.method == "GET" and editing is not None:
        form.fill_from(editing)
    status = 200
    if form.validate_on_submit() and (editing is not None or may_certify):
        try:
            body = _body(task, run, form)
            if editing is not None:
                service.edit(editing, current_user, body)
            else:
                service.certify(task, current_user, body)
        except ValueError as error:
            flash(f"Bad lumisections: {error}", "danger")
            status = 400
        except Refused as refused:
            if refused.location:  # the run has its certifications already
                flash(f"Run {run_number} was certified meanwhile; see below.", "warning")
                certifications, may_certify = queries.certifications_by_run(task).get(run_number, []), False
            else:
                flash(refused.message, "danger")
            status = refused.status
        else:
            if editing is not None:
                flash(f"Certification of run {run_number} changed; it awaits review again.", "success")
                return redirect(url_for("certification.run", task_id=task.id, run_number=run_number))
            flash(f"Run {run_number} certified; a shift leader will review it.", "success")
            following = queue.next_run(task, current_user, after=run_number) if form.submit_next.data else None
            if following:
                return redirect(url_for("certification.run", task_id=task.id, run_number=following))
            return redirect(url_for("certification.task", task_id=task.id))
    elif form.is_submitted():
        status = 400 if (editing is not None or may_certify) else 403
    claimed = None
    if may_certify and not certifications and request.method == "GET":
        claimed = queue.claim(task, run_number, current_user)
    shown = _visible(task, certifications)
    bad = [(r.first, r.last) for c in shown for r in c.bad_ranges]
    suggestions = on_page.for_viewer(task, run_number, current_user)
    if request.method == "POST":
        ticked = set(request.form.getlist("checklist"))
    else:
        ticked = _ticked_items(task, editing) if editing is not None else set()
    return render_template(
        "certification/run.html",
        task=task,
        run=run,
        certifications=shown,
        hidden=len(certifications) - len(shown),
        form=form,
        may_certify=may_certify,
        editing=editing,
        may_edit={c.id for c in shown if service.may_edit(c, current_user)},
        review_form=ReviewForm(),
        may_review=current_user.has_role(Role.SHIFT_LEADER),
        own={c.id for c in shown if own_review_refusal(c, current_user)},
        problem_categories=PROBLEM_CATEGORIES,
        chart=run_conditions(run, bad),
        elements=cockpit.page_elements(run_number, shaded_ranges(bad) + on_page.suggested_shading(suggestions.sources)),
        rr=rr_compare.run_comparison(run.run_number, run.ls_count, shown),
        suggestions=suggestions,
        score_chart=on_page.score_chart(suggestions.sources),
        source_names=on_page.source_names(task),
        ticked=ticked,
        claimed=claimed,
    ), status


def _editable(certifications: list[Certification], wanted: str | None) -> Certification | None:
    """The certification of this run the user asked to change, when they may."""
    return next(
        (c for c in certifications if str(c.id) == wanted and service.may_edit(c, current_user)),
        None,
    )


@bp.route("/reviews")
@roles_required(Role.SHIFT_LEADER)
def review_queue():
    """Certifications awaiting a shift leader, oldest first."""
    pending = list(
        db.session.execute(
            db.select(Certification)
            .where(Certification.review_state == ReviewState.PENDING)
            .order_by(Certification.updated_at, Certification.id)
        ).scalars()
    )
    own = {c.id for c in pending if own_review_refusal(c, current_user)}
    flagged = models_page.rubber_stampers(sorted({c.task_id for c in pending}))
    return render_template(
        "certification/reviews.html", pending=pending, own=own, flagged=flagged, review_form=ReviewForm()
    )


@bp.route("/tasks/<int:task_id>/agreement")
@roles_required(Role.SHIFT_LEADER, Role.ORGANISER)
def agreement(task_id: int):
    """Where two blind certifications of the same runs disagree, and how far they agree overall."""
    task = _task(task_id)
    return render_template("certification/agreement.html", task=task, agreement=task_agreement(task))


@bp.route("/tasks/<int:task_id>/checklists", methods=["GET", "POST"])
@roles_required(Role.SHIFT_LEADER)
def checklists(task_id: int):
    """Shift leaders write the task's checklist groups and their items."""
    task = _task(task_id)
    form = ChecklistsForm()
    status = 200
    if form.validate_on_submit():
        try:
            set_checklists(task, current_user, form.text.data)
        except Refused as refused:
            flash(refused.message, "danger")
            status = 400
        else:
            flash("Checklists saved; certifications from now on tick them.", "success")
            return redirect(url_for("certification.task", task_id=task.id))
    elif form.is_submitted():
        status = 400
    else:
        form.text.data = format_checklists(task.checklists)
    return render_template("certification/checklists.html", task=task, form=form), status


@bp.route("/certifications/<int:certification_id>/reference", methods=["POST"])
@roles_required(Role.SHIFT_LEADER)
def promote_reference(certification_id: int):
    """Make the run a reference run from its run page."""
    certification = db.get_or_404(Certification, certification_id)
    if ReviewForm().validate_on_submit():
        try:
            service.promote_reference(certification, current_user)
            flash(f"Run {certification.run_number} is a reference run for {certification.reco.value}.", "success")
        except Refused as refused:
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
        except Refused as refused:
            flash(refused.message, "danger")
    if request.args.get("next") == "queue":
        return redirect(url_for("certification.review_queue"))
    return redirect(url_for("certification.run", task_id=certification.task_id, run_number=certification.run_number))
