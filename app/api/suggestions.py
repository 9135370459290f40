"""API routes of the loop: a task's sources of suggestions, one run's suggestions for a shifter, and the next
run in the task's order."""

from __future__ import annotations

from typing import BinaryIO, cast

from flask import abort, jsonify, request

from app.api import bp
from app.api.auth import api_user, roles_required
from app.api.schemas import AttachSubmissionBody, SourceChange, parse_body
from app.extensions import db
from app.models import LabellingTask, Role, TaskRun
from app.services.certification.queue import claim_next
from app.services.errors import Refused
from app.services.suggestions import shown, sources

CERTIFIERS = (Role.SHIFTER, Role.SHIFT_LEADER)
READERS = (Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER)
MANAGERS = (Role.SHIFT_LEADER, Role.ORGANISER)


def _task(task_id: int) -> LabellingTask:
    return db.get_or_404(LabellingTask, task_id, description=f"No task {task_id}.")


@bp.post("/tasks/<int:task_id>/suggestions")
@roles_required(*MANAGERS)
def add_suggestions(task_id: int):
    """Add a source: an external model's CSV (multipart file, name, version, threshold), or a scored submission
    (JSON {"submission_id": N}); 201 with its id and rows; all or nothing."""
    task = _task(task_id)
    if request.is_json:
        body = parse_body(AttachSubmissionBody)
        given = {k: v for k, v in body.as_given().items() if k != "submission_id" and v is not None}
        source = sources.attach_submission(task, body.submission_id, user=api_user(), **given)
        return jsonify(source_id=source.id, rows=source.rows), 201
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Refused(
            "Send the scores as a multipart form field named 'file' (CSV run,lumisection,score) with a 'name', "
            'or JSON {"submission_id": N}.'
        )
    source = sources.import_upload(
        task,
        cast(BinaryIO, upload.stream),
        name=request.form.get("name", ""),
        version=request.form.get("version", ""),
        threshold=_threshold(request.form.get("threshold")),
        user=api_user(),
        file_name=upload.filename,
    )
    return jsonify(source_id=source.id, rows=source.rows), 201


def _threshold(text: str | None) -> float:
    """The form's threshold, 0.5 when absent."""
    if text is None or not text.strip():
        return 0.5
    try:
        value = float(text)
    except ValueError:
        raise Refused(f"the threshold is a number in [0, 1], not {text[:40]!r}") from None
    if not 0 <= value <= 1:
        raise Refused(f"the threshold is a number in [0, 1], not {text[:40]!r}")
    return value


@bp.get("/tasks/<int:task_id>/models")
@roles_required(*MANAGERS)
def task_models(task_id: int):
    """The task's sources, each with its live measures on runs approved after it was created (or null)."""
    task = _task(task_id)
    return jsonify(models=[sources.as_json(source) for source in sources.sources_of(task)])


@bp.post("/tasks/<int:task_id>/models/<int:source_id>")
@roles_required(*MANAGERS)
def change_model(task_id: int, source_id: int):
    """Activate or deactivate a source, or set its threshold."""
    task = _task(task_id)
    source = sources.source_of(task, source_id)
    body = parse_body(SourceChange)
    sources.change_source(source, api_user(), active=body.active, threshold=body.threshold)
    return jsonify(sources.as_json(source))


@bp.get("/tasks/<int:task_id>/runs/<int:run_number>/suggestions")
@roles_required(*READERS)
def run_suggestions(task_id: int, run_number: int):
    """One run's suggestions from the task's active sources; none on a blind run until the caller certified it."""
    task = _task(task_id)
    if db.session.get(TaskRun, (task.id, run_number)) is None:
        abort(404, description=f"Run {run_number} is not in task {task_id}.")
    return jsonify(shown.run_view(task, run_number, api_user()))


@bp.get("/tasks/<int:task_id>/next")
@roles_required(*CERTIFIERS)
def next_run(task_id: int):
    """The next run for the caller in the task's order, claimed for them; 404 when none is left."""
    task = _task(task_id)
    run_number = claim_next(task, api_user())
    if run_number is None:
        abort(404, description=f"No run of task {task_id} is left for you to certify.")
    return jsonify(run_number=run_number)
