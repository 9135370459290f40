"""What the certification page's script fetches of the run's monitoring elements (js/elements.js): one element's
trend along the run, and one lumisection of it beside its reference. JSON, for whoever may open the run's
certification page; refusals answer as the API's JSON errors."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required

from app.certification import bp
from app.certification.routes import READERS
from app.errors import json_refusals
from app.extensions import db
from app.models import Certification, LabellingTask, Run, TaskRun
from app.services.certification import cockpit, queries
from app.services.certification import workflow as service
from app.services.errors import Refused
from app.services.runs import element_store


def _task_run(task_id: int, run_number: int) -> tuple[LabellingTask, Run]:
    """The task and its run, as the certification page finds them: 403 without a reader's role, 404 otherwise."""
    if not current_user.has_role(*READERS):
        raise Refused("Your account does not have the role this page needs.", 403)
    task = db.session.get(LabellingTask, task_id)
    run = db.session.get(Run, run_number)
    if task is None or run is None or db.session.get(TaskRun, (task_id, run_number)) is None:
        raise Refused(f"run {run_number} is not in task {task_id}", 404)
    return task, run


def _shown(task: LabellingTask, run_number: int) -> list[Certification]:
    """The run's certifications in the task as the viewer sees them on the page."""
    return [c for c in queries.certifications_by_run(task).get(run_number, []) if service.may_see(c, current_user)]


@bp.route("/tasks/<int:task_id>/runs/<int:run_number>/elements/<path:name>/trend")
@login_required
@json_refusals
def element_trend(task_id: int, run_number: int, name: str):
    """One monitoring element along the run, as the page draws it (typed arrays)."""
    _task_run(task_id, run_number)
    return jsonify(cockpit.trend_as_json(element_store.element(run_number, name)))


@bp.route("/tasks/<int:task_id>/runs/<int:run_number>/elements/<path:name>/compare")
@login_required
@json_refusals
def element_compare(task_id: int, run_number: int, name: str):
    """One lumisection (``?lumisection=N``) of a monitoring element beside its reference (the form's
    ``reference`` run when it sends one), both as shares of their entries."""
    task, run = _task_run(task_id, run_number)
    lumisection = _whole(request.args.get("lumisection"), "lumisection")
    chosen = request.args.get("reference")
    element = element_store.element(run_number, name)
    shown = _shown(task, run_number)
    return jsonify(
        cockpit.compare_as_json(
            task,
            run,
            element,
            lumisection,
            chosen=_whole(chosen, "reference") if chosen else cockpit.chosen_reference(shown),
            bad_ranges=[(r.first, r.last) for c in shown for r in c.bad_ranges],
        )
    )


def _whole(value: str | None, field: str) -> int:
    """A positive whole number from the query string, else a 400 naming the field."""
    if value is None or not (value.isascii() and value.isdigit() and len(value) <= 18) or int(value) == 0:
        raise Refused(f"{field} must be a positive whole number (?{field}=N), not {value!r}", field=field)
    return int(value)
