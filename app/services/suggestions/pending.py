"""pending.csv of a live competition: one row per lumisection of its task's runs without an approved
certification, in the columns of the version's test.csv (written by publishing's own test.csv writer), so that a
model trained on train.csv predicts it as it predicts test.csv.

It is rewritten by a job (workers.live) when runs are imported or certifications approved, under a new key each
time; the competition's row is locked while it is rebuilt, so that two jobs never record an older file over a
newer one.
"""

from __future__ import annotations

import hashlib
import io
import uuid

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Certification,
    Competition,
    DatasetVersion,
    FileKind,
    LabellingTask,
    Lumisection,
    PendingFile,
    ReviewState,
    TaskRun,
)
from app.models.runs import CONDITIONS
from app.models.types import utcnow
from app.services.datasets.splitting import Row
from app.services.datasets.version_files import ID, Features, test_csv, test_header
from app.services.errors import Refused
from app.services.storage import StorageError, get_storage

HEADER_BYTES = 4 * 1024 * 1024  # read of test.csv's first line: room for thousands of feature columns


def live_competitions(task_id: int) -> list[Competition]:
    """The live competitions on versions published from the task."""
    return list(
        db.session.execute(
            select(Competition)
            .join(DatasetVersion, Competition.dataset_version_id == DatasetVersion.id)
            .where(DatasetVersion.task_id == task_id, Competition.live.is_(True))
            .order_by(Competition.id)
        ).scalars()
    )


def approved_runs_query(task_id: int):
    """The runs of the task with an approved certification, as a subquery."""
    return select(Certification.run_number).where(
        Certification.task_id == task_id, Certification.review_state == ReviewState.APPROVED
    )


def pending_rows(task: LabellingTask) -> list[Row]:
    """Every lumisection of the task's runs with no approved certification, sorted (labels unknown: 0)."""
    runs = select(TaskRun.run_number).where(
        TaskRun.task_id == task.id, TaskRun.run_number.not_in(approved_runs_query(task.id))
    )
    query = (
        select(Lumisection.run_number, Lumisection.number, *(getattr(Lumisection, c) for c in CONDITIONS))
        .where(Lumisection.run_number.in_(runs))
        .order_by(Lumisection.run_number, Lumisection.number)
    )
    return [Row(int(run), int(number), tuple(conditions), 0) for run, number, *conditions in db.session.execute(query)]


def feature_names(version: DatasetVersion) -> tuple[str, ...]:
    """The columns of the version's test.csv beyond the ones every published version has (features)."""
    test = next((f for f in version.files if f.kind is FileKind.PUBLIC and f.name == "test.csv"), None)
    if test is None:
        return ()
    head = get_storage().read_range(test.storage_key, 0, HEADER_BYTES)
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    base = set(test_header())
    return tuple(name for name in first.split(",") if name and name not in base)


def pending_csv(rows: list[Row], names: tuple[str, ...] = ()) -> bytes:
    """pending.csv's bytes: test.csv's columns; features not known for runs still to certify are left empty."""
    return test_csv(rows, Features(names, {}))


def refresh(competition_id: int) -> PendingFile | None:
    """Rewrite a live competition's pending.csv from the database (committed); None if it is not live.

    Unchanged content keeps its file; a new one is stored under a new key before the row points to it, and the
    old file is deleted once the row no longer does.
    """
    competition = db.session.execute(
        select(Competition).where(Competition.id == competition_id).with_for_update()
    ).scalar_one_or_none()
    version = competition.dataset_version if competition is not None else None
    if competition is None or not competition.live or version is None or version.task_id is None:
        db.session.rollback()
        return None
    task = db.session.get_one(LabellingTask, version.task_id)
    rows = pending_rows(task)
    content = pending_csv(rows, feature_names(version))
    digest = hashlib.sha256(content).hexdigest()
    current = competition.pending_file
    if current is not None and current.sha256 == digest:
        db.session.commit()
        return current
    storage = get_storage()
    key = f"competitions/{competition.slug}/live/{uuid.uuid4().hex}/pending.csv"
    old_key = current.storage_key if current is not None else None
    try:
        stored = storage.put(key, io.BytesIO(content))
        if current is None:
            current = competition.pending_file = PendingFile(storage_key=key, size=0, sha256="", runs=0, lumisections=0)
        current.storage_key, current.size, current.sha256 = key, stored.size, stored.sha256
        current.runs, current.lumisections = len({r.run for r in rows}), len(rows)
        current.updated_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.delete(key)
        raise
    if old_key is not None:
        storage.delete(old_key)
    return current


def pending_ids(pending: PendingFile) -> pa.Array:
    """The ids of the pending.csv as stored, as text, in file order."""
    try:
        with get_storage().open(pending.storage_key) as handle:
            content = handle.read()
    except (StorageError, OSError):
        raise Refused("pending.csv is being rewritten at this moment; post again.", 503, retry_after=1) from None
    table = pa_csv.read_csv(
        io.BytesIO(content),
        convert_options=pa_csv.ConvertOptions(include_columns=[ID], column_types={ID: pa.string()}),
    )
    return table.column(ID).combine_chunks()
