"""The double-blind task of the demo: two shifters certify the first runs of the period without seeing each
other's work, and the agreement page shows where and how much they disagree.

The careful shifter files what `tracker.certification_body` files; the quick one overlooks anomalies of a
lumisection or two, calls the pixel bad for a whole run with many problems, and takes low statistics in a
cosmics run for bad tracking. In cosmics runs both mark the pixel excluded: it is not read out without beam.
A shift leader approves the runs on which they agree and leaves the others for a closer look.
"""

from __future__ import annotations

from app.extensions import db
from app.models import Certification, LabellingTask, User
from app.services.certification import agreement, tasks, workflow
from demo.tracker import certification_body
from demo.tracker_data import TrackerData
from demo.tracker_histograms import Anomaly, AnomalyBlock

TASK_NAME = "Prompt 2024, double-blind (demo)"
RUNS = 10  # the first runs of the period, collisions and cosmics
SHORT_LS = 2  # anomalies the quick shifter overlooks
MANY_PROBLEMS = 3  # anomalies in a run from which the quick shifter calls the pixel bad for the whole run


def cosmics_body(run: dict, checklists: list[str], *, tracking: str = "good") -> dict:
    """A cosmics run: no beam, so the pixel is excluded and tracking has low statistics (or is called bad)."""
    return {
        "run_number": run["run_number"],
        "pixel": "excluded",
        "strip": "good",
        "tracking": tracking,
        "tracking_lowstat": tracking == "good",
        "comment": "cosmics run: pixel excluded"
        + ("" if tracking == "good" else "; tracking bad, too few tracks to judge"),
        "checklist": dict.fromkeys(checklists, True),
    }


def careful_body(run: dict, blocks: list[AnomalyBlock], checklists: list[str]) -> dict:
    """What the careful shifter files."""
    if not run["stable_beam"]:
        return cosmics_body(run, checklists)
    return certification_body(run, blocks, None, checklists)


def quick_body(run: dict, blocks: list[AnomalyBlock], checklists: list[str], *, cosmics_seen: int) -> dict:
    """What the quick shifter files: short anomalies overlooked, a troubled run's pixel bad as a whole."""
    if not run["stable_beam"]:
        return cosmics_body(run, checklists, tracking="bad" if cosmics_seen == 0 else "good")
    seen = [b for b in blocks if b.kind is Anomaly.DCS_OFF or len(b.lumisections) > SHORT_LS]
    body = certification_body(run, seen, None, checklists)
    if sum(b.kind is not Anomaly.DCS_OFF for b in blocks) >= MANY_PROBLEMS:
        body["pixel"] = "bad"
        body["comment"] += "; pixel bad for the whole run: too many problems"
    return body


def certify_blind(generated: TrackerData, shifters: tuple[User, User], leader: User) -> LabellingTask:
    """The double-blind task: both shifters certify its runs; the runs they agree on are approved (idempotent)."""
    task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == TASK_NAME)).scalar_one_or_none()
    runs = generated.runs[:RUNS]
    if task is None:
        first, last = runs[0]["run_number"], runs[-1]["run_number"]
        task = tasks.create_task(TASK_NAME, "prompt", runs=(first, last), double=True)
    done = {
        (number, certifier)
        for number, certifier in db.session.execute(
            db.select(Certification.run_number, Certification.certifier_id).where(Certification.task_id == task.id)
        )
    }
    blocks: dict[int, list[AnomalyBlock]] = {}
    for block in generated.anomalies:
        blocks.setdefault(block.run_number, []).append(block)
    careful, quick = shifters
    cosmics_seen = 0
    for run in runs:
        number, mine = run["run_number"], blocks.get(run["run_number"], [])
        if (number, careful.id) not in done:
            workflow.certify(task, careful, careful_body(run, mine, task.checklist_names))
        if (number, quick.id) not in done:
            body = quick_body(run, mine, task.checklist_names, cosmics_seen=cosmics_seen)
            workflow.certify(task, quick, body)
        cosmics_seen += not run["stable_beam"]
    _approve_agreements(task, leader)
    return task


def _approve_agreements(task: LabellingTask, leader: User) -> None:
    """The shift leader approves both certifications of each run on which the shifters agree."""
    for compared in agreement.task_agreement(task).runs:
        if not compared.agrees:
            continue
        for certified in (compared.first, compared.second):
            if certified.review_state.value == "pending":
                workflow.review(certified, leader, "approve")
