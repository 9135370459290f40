"""Scoring live sources on labels that did not exist when they were made.

A source is scored on the lumisections it scored of the runs whose approval came after it was created (a run's
approval time: the latest approving review of its approved certifications in the task). Labels are the ones a
publication of the task would give (bad unless the task's golden JSON holds the lumisection), weighted by
recorded luminosity when the competition's solution is weighted. The measures are app.services.suggestions.
measures' (ROC AUC, TPR at 1% FPR, the competition's metric with its parameters).

An evaluation is stored only when the label snapshot or the scorer changed since the source's latest one, with
what reproduces it: the predictions' sha256, the label snapshot's sha256 and the snapshot itself in storage
(CSV run,lumisection,label,weight), and the scorer's name and version.
"""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Competition,
    LabellingTask,
    Lumisection,
    SourceEvaluation,
    SourceKind,
    SuggestionScore,
    SuggestionSource,
)
from app.services.certification.queries import approval_times
from app.services.certification.workflow import golden_mask
from app.services.datasets.splitting import label_rows
from app.services.datasets.version_files import WEIGHT
from app.services.storage import get_storage
from app.services.suggestions.measures import LiveMeasures, live_measures


def is_weighted(competition: Competition) -> bool:
    """Whether the competition's solution weighs its rows (then live scores weigh by recorded luminosity)."""
    head = get_storage().read_range(competition.solution_file.storage_key, 0, 64 * 1024)
    return WEIGHT in head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().split(",")


class TaskLabels:
    """The labels (1: bad) and recorded luminosities of a task's approved lumisections, read once per job."""

    def __init__(self, task: LabellingTask, runs: list[int]) -> None:
        query = (
            select(Lumisection.run_number, Lumisection.number, Lumisection.recorded_lumi)
            .where(Lumisection.run_number.in_(runs))
            .order_by(Lumisection.run_number, Lumisection.number)
        )
        rows = label_rows(db.session.execute(query), golden_mask(task)) if runs else []
        self.run = np.array([r.run for r in rows], dtype=np.int64)
        self.lumisection = np.array([r.number for r in rows], dtype=np.int64)
        self.label = np.array([r.label for r in rows], dtype=np.float64)
        # OMS records tiny negative luminosities where there is none, and none is known for some: no weight.
        self.weight = np.array([max(r.conditions[0] or 0.0, 0.0) for r in rows], dtype=np.float64)


def _scores(source: SuggestionSource, runs: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    score = SuggestionScore.__table__.c
    rows = db.session.execute(
        select(score.run_number, score.lumisection, score.score)
        .where(score.source_id == source.id, score.run_number.in_(runs))
        .order_by(score.run_number, score.lumisection)
    ).all()
    table = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2]


def measure(
    source: SuggestionSource,
    competition: Competition,
    labels: TaskLabels,
    approved: dict[int, datetime],
    *,
    weighted: bool,
) -> tuple[LiveMeasures, np.ndarray] | None:
    """The source's live measures, and the snapshot rows they used; None while no scored run was approved since."""
    runs = sorted(run for run, at in approved.items() if at > source.created_at)
    if not runs:
        return None
    run, number, score = _scores(source, runs)
    keys = (run << 32) + number
    label_keys = (labels.run << 32) + labels.lumisection
    common, at_score, at_label = np.intersect1d(keys, label_keys, assume_unique=True, return_indices=True)
    if not len(common):
        return None
    weights = labels.weight[at_label] if weighted else None
    measures = live_measures(
        run[at_score],
        number[at_score],
        labels.label[at_label],
        score[at_score],
        weights=weights,
        metric=competition.metric,
        metric_params=competition.metric_params or {},
    )
    snapshot = np.column_stack(
        [run[at_score], number[at_score], labels.label[at_label], np.ones(len(common)) if weights is None else weights]
    )
    return measures, snapshot


def _store_snapshot(task_id: int, digest: str, snapshot: np.ndarray) -> str:
    """The label snapshot as CSV under its sha256 (stored once)."""
    key = f"suggestions/{task_id}/labels/{digest}.csv"
    storage = get_storage()
    if not storage.exists(key):
        lines = ["run,lumisection,label,weight"]
        lines += [f"{int(r)},{int(n)},{int(y)},{w!r}" for r, n, y, w in snapshot.tolist()]
        storage.put(key, io.BytesIO(("\n".join(lines) + "\n").encode()))
    return key


def evaluate_task(task_id: int) -> list[SourceEvaluation]:
    """Score every live source of the task on the runs approved after it was created; committed.

    Returns the evaluations written (none for a source whose labels and scorer did not change).
    """
    # Evaluations of one task are written one job at a time: a second job waits, then finds them done.
    task = db.session.execute(
        select(LabellingTask).where(LabellingTask.id == task_id).with_for_update()
    ).scalar_one_or_none()
    if task is None:
        db.session.rollback()
        return []
    sources = list(
        db.session.execute(
            select(SuggestionSource)
            .where(
                SuggestionSource.task_id == task_id,
                SuggestionSource.kind == SourceKind.LIVE,
                SuggestionSource.competition_id.is_not(None),
            )
            .order_by(SuggestionSource.id)
        ).scalars()
    )
    if not sources:
        db.session.rollback()
        return []
    approved = approval_times(task_id)
    oldest = min(source.created_at for source in sources)
    labels = TaskLabels(task, sorted(run for run, at in approved.items() if at > oldest))
    written: list[SourceEvaluation] = []
    weighted: dict[int, bool] = {}
    for source in sources:
        competition = db.session.get(Competition, source.competition_id)
        if competition is None:
            continue
        if competition.id not in weighted:
            weighted[competition.id] = is_weighted(competition)
        result = measure(source, competition, labels, approved, weighted=weighted[competition.id])
        if result is None:
            continue
        measures, snapshot = result
        latest = source.live
        if latest is not None and (latest.labels_sha256, latest.scorer_version, latest.metric) == (
            measures.labels_sha256,
            measures.scorer_version,
            measures.metric,
        ):
            continue
        evaluation = SourceEvaluation(
            source=source,
            runs=measures.runs,
            lumisections=measures.lumisections,
            roc_auc=measures.roc_auc,
            tpr_at_fpr=measures.tpr_at_fpr,
            fpr=measures.fpr,
            metric=measures.metric,
            score=measures.score,
            labels_sha256=measures.labels_sha256,
            scorer_version=measures.scorer_version,
            predictions_sha256=source.file_sha256,
            labels_key=_store_snapshot(task_id, measures.labels_sha256, snapshot),
        )
        db.session.add(evaluation)
        written.append(evaluation)
    db.session.commit()
    return written
