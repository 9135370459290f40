"""The tracker half of the demo: synthetic 2024 runs imported as OMS would give them, with their monitoring
elements stored as `flask runs import-mes` stores dumps, a labelling task shifters are working through, and the
dataset published from its approved labels."""

from __future__ import annotations

from functools import cache

import pandas as pd

from app.extensions import db
from app.models import Certification, Dataset, LabellingTask, MonitoringElement, Run, Status, User
from app.models.certification import COMPONENTS
from app.services.certification import tasks, workflow
from app.services.datasets import publishing
from app.services.runs import element_store
from app.services.runs.documents import parse_oms
from app.services.runs.importer import import_conditions
from app.services.runs.sources import run_attributes
from demo import tracker_data
from demo.tracker_data import TrackerData
from demo.tracker_histograms import STON, Anomaly, AnomalyBlock

SEED = 2024
RUNS = 20
MAX_LS_PER_RUN = 250
TASK_NAME = "Express 2024 (demo)"
DATASET_SLUG = "tracker-lumisections-2024"
DATASET_TITLE = "Tracker lumisections 2024 (demo)"
BLIND_SEED = 21  # the task's blind draw: run 380039 (left for demo.loop) and 380012 certified blind
PENDING_RUNS, REJECTED_RUNS, UNCERTIFIED_RUNS = 2, 1, 1  # the last collision runs of the task
BAD_RUN_SHARE = 0.1  # of a run's lumisections in anomalies, beyond which a shifter calls a component bad
LOW_STATISTICS_LS = 100  # runs shorter than this are certified with low statistics

# How a shifter files each injected anomaly: components marked bad over its lumisections, and the category.
FILED = {
    Anomaly.DEAD_REGION: (["pixel"], "dead_modules", "masked pixel modules"),
    Anomaly.HOT_SPOTS: (["pixel"], "noisy_modules", "hot spots in the pixel maps"),
    Anomaly.CHARGE_SHIFT: (["pixel"], "charge_shift", "cluster charge peak shifted"),
    Anomaly.LOW_STATISTICS: (["pixel", "strip", "tracking"], "low_statistics", "too few events"),
    Anomaly.HV_OFF: (["pixel"], "hv_off", "high voltage off"),
}
STRIP_HV_OFF = (["strip", "tracking"], "hv_off", "strip high voltage off")


@cache
def data() -> TrackerData:
    """The demo's runs, conditions and monitoring elements (the same every time)."""
    return tracker_data.generate(SEED, runs=RUNS, max_ls_per_run=MAX_LS_PER_RUN)


def import_runs(generated: TrackerData) -> list[int]:
    """Import the runs as the OMS API describes them (idempotent); returns their numbers."""
    numbers = [record["run_number"] for record in generated.runs]
    if db.session.execute(db.select(db.func.count()).where(Run.run_number.in_(numbers))).scalar_one() < len(numbers):
        conditions = parse_oms(generated.conditions)
        for record in generated.runs:
            conditions.runs[record["run_number"]] |= run_attributes(record)
        import_conditions(conditions, "demo")
    return numbers


def _filing(block: AnomalyBlock) -> tuple[list[str], str, str]:
    if block.kind is Anomaly.HV_OFF and STON in block.hnames:
        return STRIP_HV_OFF
    return FILED[block.kind]


def _verdicts(run: dict, filed: list[tuple]) -> dict:
    """Statuses of the whole run: a component bad when its anomalies spoil much of the run; low statistics if short."""
    statuses = dict.fromkeys(COMPONENTS, "good")
    spoiled = {ls for block, *_ in filed for ls in block.lumisections}
    if len(spoiled) >= BAD_RUN_SHARE * run["ls_count"]:
        spoiled_in = {c: sum(len(b.lumisections) for b, components, *_ in filed if c in components) for c in COMPONENTS}
        worst = max(COMPONENTS, key=spoiled_in.__getitem__)
        statuses |= {worst: "bad"} | ({"tracking": "bad"} if worst == "strip" else {})
    lowstat = run["ls_count"] < LOW_STATISTICS_LS
    return statuses | {f"{c}_lowstat": lowstat for c in COMPONENTS}


def certification_body(run: dict, blocks: list[AnomalyBlock], reference: int | None, checklists: list[str]) -> dict:
    """What a careful shifter files for a run: the anomalies seen as bad ranges (DCS-off ones are the flags'),
    a component bad for the whole run when they spoil much of it, low statistics when the run is short."""
    filed = [(block, *_filing(block)) for block in blocks if block.kind is not Anomaly.DCS_OFF]
    verdicts = _verdicts(run, filed)
    whole = [c for c in COMPONENTS if verdicts[c] == "bad"]
    comment = f"{len(filed)} bad range(s) seen in the pixel and strip maps" if filed else ""
    if whole:
        comment += f"; {' and '.join(whole)} bad for the whole run: anomalies in too many lumisections"
    return verdicts | {
        "run_number": run["run_number"],
        "bad_lumisections": [
            {"first": block.first_ls, "last": block.last_ls, "components": components}
            for block, components, _, _ in filed
        ],
        "problem_categories": sorted({category for _, _, category, _ in filed}),
        "bad_reason": "; ".join(dict.fromkeys(reason for *_, reason in filed)),
        "comment": comment,
        "reference_run": reference,
        "checklist": dict.fromkeys(checklists, True),
    }


def reviewer_for(certification: Certification, leaders: list[User]) -> User:
    """The first shift leader who did not certify the run: nobody reviews their own certification."""
    return next(leader for leader in leaders if leader.id != certification.certifier_id)


def certify_runs(generated: TrackerData, shifters: list[User], leaders: list[User]) -> LabellingTask:
    """The task over every demo run: most collision runs approved, some awaiting review, one sent back."""
    task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == TASK_NAME)).scalar_one_or_none()
    if task is None:
        numbers = [record["run_number"] for record in generated.runs]
        task = tasks.create_task(
            TASK_NAME, "express", runs=(min(numbers), max(numbers)), dataset="/ZeroBias/Run2024D-Express-v1/DQMIO"
        )
        task.blind_seed = BLIND_SEED
        db.session.commit()
    done = set(
        db.session.execute(db.select(Certification.run_number).where(Certification.task_id == task.id)).scalars()
    )
    collisions = [record for record in generated.runs if record["stable_beam"]]
    to_certify = collisions[: len(collisions) - UNCERTIFIED_RUNS]
    first_pending = len(to_certify) - PENDING_RUNS - REJECTED_RUNS
    blocks = _blocks_by_run(generated)
    reference = None
    for index, run in enumerate(to_certify):
        if run["run_number"] in done:
            continue
        body = certification_body(run, blocks.get(run["run_number"], []), reference, task.checklist_names)
        shifter = shifters[index % len(shifters)]
        if index >= first_pending + PENDING_RUNS:  # the shifter misses the last bad range, and is told so
            missed = body["bad_lumisections"].pop() if body["bad_lumisections"] else None
            certified = workflow.certify(task, shifter, body)
            where = f"lumisections {missed['first']}-{missed['last']}" if missed else "the end of the run"
            leader = reviewer_for(certified, leaders)
            workflow.review(certified, leader, "reject", f"Look again at {where} in the layer 1 map.")
            continue
        certified = workflow.certify(task, shifter, body)
        if index < first_pending:
            leader = reviewer_for(certified, leaders)
            workflow.review(certified, leader, "approve")
            if reference is None and all(getattr(certified, c) is Status.GOOD for c in COMPONENTS):
                reference = workflow.promote_reference(certified, leader).run_number
    return task


def _blocks_by_run(generated: TrackerData) -> dict[int, list[AnomalyBlock]]:
    blocks: dict[int, list[AnomalyBlock]] = {}
    for block in generated.anomalies:
        blocks.setdefault(block.run_number, []).append(block)
    return blocks


def store_elements(generated: TrackerData) -> int:
    """Store the runs' monitoring elements as an import of their dumps would (once); returns how many."""
    numbers = [record["run_number"] for record in generated.runs]
    stored = db.select(db.func.count()).where(MonitoringElement.run_number.in_(numbers))
    if db.session.execute(stored).scalar_one() == 0:
        element_store.store_elements(generated.monitoring_elements, "the demo's monitoring elements")
    return db.session.execute(stored).scalar_one()


def publish_dataset(task: LabellingTask, organiser: User) -> publishing.Published | None:
    """The task's approved labels, with the features of the runs' stored monitoring elements, as a dataset (once)."""
    if db.session.execute(db.select(Dataset.id).where(Dataset.slug == DATASET_SLUG)).first():
        return None
    return publishing.publish(task, slug=DATASET_SLUG, title=DATASET_TITLE, seed=0, created_by=organiser)


def truth_of(generated: TrackerData) -> pd.DataFrame:
    """The injected anomaly of every lumisection (None when good), by run_number and lumisection."""
    return generated.truth.rename(columns={"lumisection_number": "lumisection"})
