"""Labelling tasks and their checklists: creating a task over imported runs, and the checklist groups shift
leaders write for it (as text, parsed and formatted here)."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import LabellingTask, QueueOrder, Reco, Run, TaskRun, User
from app.services.certification.workflow import audit
from app.services.errors import Refused


def create_task(
    name: str,
    reco: str,
    *,
    runs: tuple[int, int | None] | None = None,
    dataset: str | None = None,
    double: bool = False,
    order: QueueOrder | str = QueueOrder.RUN,
    blind_fraction: float = 0.1,
) -> LabellingTask:
    """A labelling task over the imported runs in the range (all runs when none is given); committed.

    A range without a last run (FIRST, None) is open: the task gains every run numbered FIRST or above imported
    later (app.services.runs.importer adds them), and may start with none.
    """
    if not 0 <= blind_fraction <= 1:
        raise Refused(f"the blind fraction is a share in [0, 1], not {blind_fraction}")
    opened = runs is not None and runs[1] is None
    query = db.select(Run.run_number).order_by(Run.run_number)
    if runs and opened:
        query = query.where(Run.run_number >= runs[0])
    elif runs:
        query = query.where(Run.run_number.between(*runs))
    numbers = list(db.session.execute(query).scalars())
    if not numbers and not opened:
        raise Refused("no imported run lies in that range: import runs first (flask runs import)")
    if db.session.execute(db.select(LabellingTask.id).where(LabellingTask.name == name)).first():
        raise Refused(f"a task named {name!r} already exists", 409)
    task = LabellingTask(
        name=name,
        reco=Reco(reco),
        dataset_name=dataset,
        double_certification=double,
        order=QueueOrder(order),
        blind_fraction=blind_fraction,
        runs_from=runs[0] if runs and opened else None,
        runs=[TaskRun(run_number=n) for n in numbers],
    )
    db.session.add(task)
    db.session.commit()
    return task


CHECKLIST_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def parse_checklists(text: str) -> list[dict]:
    """Checklists written as text, a group name on its own line and its items below it as '- item' lines."""
    groups: list[dict] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped[0] in "-*":
            item = stripped[1:].strip()
            if not groups:
                problems.append(f"line {number}: an item needs a group name on a line above it")
            elif item:
                groups[-1]["items"].append(item[:300])
            continue
        name = stripped.rstrip(":").strip().lower()
        if not CHECKLIST_NAME.fullmatch(name):
            problems.append(f"line {number}: a group name is one word of letters, digits, - and _, not {stripped!r}")
        elif name in {g["name"] for g in groups}:
            problems.append(f"line {number}: the group {name!r} appears twice")
        groups.append({"name": name, "items": []})
    problems += [f"the group {g['name']!r} has no item ('- ...' lines below it)" for g in groups if not g["items"]]
    if not groups and not problems:
        problems.append("write at least one group with its items")
    if problems:
        raise Refused(problems)
    return groups


def format_checklists(groups: list[dict]) -> str:
    """The text form parse_checklists reads."""
    return "\n".join(f"{g['name']}\n" + "".join(f"- {item}\n" for item in g["items"]) for g in groups)


def set_checklists(task: LabellingTask, leader: User, text: str) -> LabellingTask:
    """A shift leader rewrites the task's checklists (committed and audited); certifications from now on tick them."""
    groups = parse_checklists(text)
    before = {"checklists": task.checklists}
    task.checklists = groups
    audit(leader, "edit_checklists", "labelling_task", task.id, before, {"checklists": groups})
    db.session.commit()
    return task
