"""API routes of runs, labelling tasks, certifications and reviews."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify

from app.api import bp
from app.api.auth import api_user, roles_required
from app.api.schemas import CertificationBody, CertificationChange, ReviewBody, parse_body
from app.extensions import db
from app.models import Certification, LabellingTask, Role, Run
from app.models.runs import CONDITIONS
from app.services.certification import lumimask, queries
from app.services.certification import workflow as service
from app.services.runs.run_registry import run_ranges

CERTIFIERS = (Role.SHIFTER, Role.SHIFT_LEADER)
READERS = (Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER)


def _certification(certification_id: int) -> Certification:
    """The certification of the URL, or a 404; a 403 for another shifter's blind certification."""
    certification = db.get_or_404(Certification, certification_id, description=f"No certification {certification_id}.")
    if not service.may_see(certification, api_user()):
        abort(403, description="This task is certified blind: another shifter's certification stays hidden.")
    return certification


@bp.get("/runs/<int:run_number>")
@roles_required(*READERS)
def run_details(run_number: int):
    """A run's metadata and its lumisections; with ``rr``, the Run Registry's tracker ranges, where imported."""
    run = db.get_or_404(Run, run_number, description=f"No run {run_number} was imported.")
    columns = ("number", *CONDITIONS, "golden")
    details: dict[str, Any] = {
        "run_number": run.run_number,
        "fill_number": run.fill_number,
        "run_class": run.run_class.value if run.run_class else None,
        "ls_count": run.ls_count,
        "delivered_lumi": run.delivered_lumi,
        "recorded_lumi": run.recorded_lumi,
        "lumisections": [{c: getattr(ls, c) for c in columns} for ls in run.lumisections],
    }
    rr = run_ranges(run.run_number)
    if rr is not None:
        details["rr"] = rr
    return jsonify(details)


@bp.get("/tasks")
@roles_required(*READERS)
def list_tasks():
    """Labelling tasks with their progress counts."""
    tasks = db.session.execute(db.select(LabellingTask).order_by(LabellingTask.id.desc())).scalars().all()
    progress = queries.task_progress(tasks)
    return jsonify(
        tasks=[
            {
                "id": t.id,
                "name": t.name,
                "reco": t.reco.value,
                "dataset": t.dataset_name,
                "open": t.open,
                "checklists": t.checklists,
                "double_certification": t.double_certification,
                "progress": progress[t.id].as_json(),
            }
            for t in tasks
        ]
    )


@bp.post("/tasks/<int:task_id>/certifications")
@roles_required(*CERTIFIERS)
def create_certification(task_id: int):
    """Certify one run of the task; 201 with the certification's id, 409 when it was certified already."""
    task = db.get_or_404(LabellingTask, task_id, description=f"No task {task_id}.")
    body = parse_body(CertificationBody)
    certification = service.certify(task, api_user(), body.as_given())
    return jsonify(service.certification_as_json(certification)), 201


@bp.get("/certifications/<int:certification_id>")
@roles_required(*READERS)
def certification_details(certification_id: int):
    """One certification, its bad ranges and review state."""
    certification = _certification(certification_id)
    return jsonify(service.certification_as_json(certification))


@bp.put("/certifications/<int:certification_id>")
@roles_required(*CERTIFIERS)
def edit_certification(certification_id: int):
    """Change a certification (its certifier or a shift leader); it goes back to review."""
    certification = _certification(certification_id)
    body = parse_body(CertificationChange)
    service.edit(certification, api_user(), body.as_given())
    return jsonify(service.certification_as_json(certification))


@bp.post("/certifications/<int:certification_id>/review")
@roles_required(Role.SHIFT_LEADER)
def review_certification(certification_id: int):
    """A shift leader approves or rejects a certification."""
    certification = _certification(certification_id)
    body = parse_body(ReviewBody)
    service.review(certification, api_user(), body.decision, body.comment or "")
    return jsonify(id=certification.id, review_state=certification.review_state.value)


@bp.post("/certifications/<int:certification_id>/reference")
@roles_required(Role.SHIFT_LEADER)
def promote_reference(certification_id: int):
    """A shift leader makes a good certification's run a reference run."""
    certification = _certification(certification_id)
    reference = service.promote_reference(certification, api_user())
    return jsonify(run_number=reference.run_number, reco=reference.reco.value), 201


@bp.get("/tasks/<int:task_id>/golden.json")
@roles_required(*READERS)
def golden_json(task_id: int):
    """The golden JSON of the task's approved good lumisections, in the canonical layout."""
    task = db.get_or_404(LabellingTask, task_id, description=f"No task {task_id}.")
    return Response(
        lumimask.dumps(service.golden_mask(task)),
        mimetype="application/json",
        headers={"Content-Disposition": f'inline; filename="task-{task.id}-golden.json"'},
    )
