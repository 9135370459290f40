"""Tasks with runs and lumisections, and sources of scores on them, built straight from the models."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import numpy as np

from app.extensions import db
from app.models import Certification, LabellingTask, Lumisection, Reco, Run, SourceKind, Status, TaskRun, User
from app.services.suggestions import store
from app.services.suggestions.source_files import SourceScores

_names = itertools.count(1)


def make_task(runs: Mapping[int, Iterable[int]], *, seed: int = 1, **settings) -> LabellingTask:
    """A committed task over these runs, each with these lumisection numbers (call inside an app context)."""
    for run, numbers in runs.items():
        if db.session.get(Run, run) is None:
            db.session.add(Run(run_number=run))
        db.session.add_all(Lumisection(run_number=run, number=n) for n in numbers)
    task = LabellingTask(
        name=f"task {next(_names)}",
        reco=Reco.EXPRESS,
        blind_seed=seed,
        runs=[TaskRun(run_number=run) for run in sorted(runs)],
        **settings,
    )
    db.session.add(task)
    db.session.commit()
    return task


def scores_of(table: Mapping[int, Mapping[int, float]]) -> SourceScores:
    """SourceScores from {run: {lumisection: score}}, sorted as the readers give them."""
    rows = sorted((run, n, s) for run, scored in table.items() for n, s in scored.items())
    run, number, score = (np.array(column) for column in zip(*rows, strict=True)) if rows else ([], [], [])
    return SourceScores(np.asarray(run, np.int64), np.asarray(number, np.int64), np.asarray(score, np.float64))


def add_source(task: LabellingTask, table: Mapping[int, Mapping[int, float]], threshold: float = 0.5, **options):
    """A committed upload source of the task with these scores."""
    options.setdefault("kind", SourceKind.UPLOAD)
    source = store.add_source(task, scores_of(table), name=f"model {next(_names)}", threshold=threshold, **options)
    db.session.commit()
    return source


def certify(task: LabellingTask, run: int, user: User, **values) -> Certification:
    """A committed certification of the run, good unless told otherwise."""
    fields = {"pixel": Status.GOOD, "strip": Status.GOOD, "tracking": Status.GOOD} | values
    certification = Certification(task_id=task.id, run_number=run, reco=task.reco, certifier_id=user.id, **fields)
    db.session.add(certification)
    db.session.commit()
    return certification
