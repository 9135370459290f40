"""A task's sources as the API and the commands meet them: importing an external model's file, attaching a
scored submission of a competition on a dataset published from the task, activating a source and setting its
threshold, and listing the task's sources with their live measures.

Each change is all or nothing and committed here: a refused file or submission leaves no source, score or
stored file behind.
"""

from __future__ import annotations

import uuid
from typing import Any, BinaryIO

from flask import current_app

import scorers
from app.extensions import db
from app.models import (
    AuditEntry,
    Competition,
    DatasetVersion,
    LabellingTask,
    SourceKind,
    Submission,
    SubmissionStatus,
    SuggestionSource,
    User,
)
from app.services.errors import Refused
from app.services.storage import StorageError, get_storage, staged_files
from app.services.suggestions import source_files, store


def source_of(task: LabellingTask, source_id: int) -> SuggestionSource:
    """The task's source of that id, or a 404 refusal (a source of another task is none of this one's)."""
    source = db.session.get(SuggestionSource, source_id)
    if source is None or source.task_id != task.id:
        raise Refused(f"Task {task.id} has no source {source_id}.", 404)
    return source


def import_upload(
    task: LabellingTask,
    stream: BinaryIO,
    *,
    name: str,
    version: str = "",
    threshold: float = 0.5,
    user: User | None = None,
    file_name: str | None = None,
) -> SuggestionSource:
    """An external model's scores (CSV run,lumisection,score) as an active source of the task (committed).

    The file is checked whole before anything is written; it is kept in storage so the source's scores can be
    read again as they came.
    """
    store.check_settings(name, version, threshold)
    scores = source_files.read_source_csv(
        stream, store.task_lumisections(task.id), max_bytes=current_app.config["MAX_DECOMPRESSED_BYTES"]
    )
    stream.seek(0)
    key = f"suggestions/task-{task.id}/{uuid.uuid4().hex}/{_safe_name(file_name)}"
    with staged_files(db.session) as files:
        try:
            stored = files.put(key, stream, max_size=current_app.config["MAX_CONTENT_LENGTH"])
        except StorageError as error:
            status = 413 if "larger" in str(error) else 503
            raise Refused(f"The file could not be stored: {error}.", status) from None
        source = store.add_source(
            task,
            scores,
            name=name,
            kind=SourceKind.UPLOAD,
            version=version,
            threshold=threshold,
            created_by=user,
            file_key=stored.key,
            file_sha256=stored.sha256,
        )
        _audit(user, "add_source", source, None, as_json(source, with_live=False))
        db.session.commit()
    return source


def _safe_name(name: str | None) -> str:
    base = (name or "scores.csv").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in base).strip("._") or "scores.csv"
    return cleaned[:200]


def attach_submission(
    task: LabellingTask,
    submission_id: int,
    *,
    user: User | None = None,
    name: str | None = None,
    version: str = "",
    threshold: float = 0.5,
) -> SuggestionSource:
    """A scored submission of a competition on a dataset version published from the task, as an active source
    of kind submission (committed); its ids are {run}_{lumisection} of the task's runs."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise Refused(f"There is no submission {submission_id}.")
    competition = db.session.get_one(Competition, submission.competition_id)
    version_row = db.session.get(DatasetVersion, competition.dataset_version_id)
    if version_row is None or version_row.task_id != task.id:
        raise Refused(
            f"Submission {submission_id} is of the competition {competition.slug!r}, whose dataset was not "
            f"published from task {task.id}."
        )
    if submission.status is not SubmissionStatus.SCORED:
        raise Refused(f"Submission {submission_id} is {submission.status.value}: only a scored submission is attached.")
    attached = db.session.execute(
        db.select(SuggestionSource.id).where(
            SuggestionSource.task_id == task.id, SuggestionSource.submission_id == submission.id
        )
    ).scalar()
    if attached is not None:
        raise Refused(f"Submission {submission_id} is already the task's source {attached}.", 409)
    name = name if name is not None else f"{competition.slug} submission {submission.id}"
    store.check_settings(name, version, threshold)
    ids, predictions = _submission_columns(submission, competition)
    scores = source_files.scores_from_submission(ids, predictions, store.task_lumisections(task.id))
    source = store.add_source(
        task,
        scores,
        name=name,
        kind=SourceKind.SUBMISSION,
        version=version,
        threshold=threshold,
        created_by=user,
        submission_id=submission.id,
        file_key=submission.file_key,
        file_sha256=submission.file_sha256,
    )
    _audit(user, "add_source", source, None, as_json(source, with_live=False))
    db.session.commit()
    return source


def _submission_columns(submission: Submission, competition: Competition) -> tuple[Any, Any]:
    """The id and target columns of a submission's stored file."""
    try:
        with get_storage().open(submission.file_key) as stream:
            table = scorers.read_table(
                stream,
                what="submission",
                text_columns=(competition.id_column,),
                max_bytes=current_app.config["MAX_DECOMPRESSED_BYTES"],
            )
    except scorers.ValidationError as error:
        raise Refused(str(error)) from None
    except (StorageError, OSError) as error:
        raise Refused(f"The submission's file could not be read: {error}.", 503) from None
    missing = [c for c in (competition.id_column, competition.target_column) if c not in table.column_names]
    if missing:
        raise Refused(f"The submission's file has no column {', '.join(missing)}.")
    predictions = table.column(competition.target_column).combine_chunks()
    return table.column(competition.id_column), predictions.to_numpy(zero_copy_only=False)


def change_source(
    source: SuggestionSource, user: User | None, *, active: bool | None = None, threshold: float | None = None
) -> SuggestionSource:
    """Activate or deactivate a source and set its threshold (either or both; committed and audited)."""
    if active is None and threshold is None:
        raise Refused('Send "active" (true or false), "threshold" (a number in [0, 1]) or both.')
    if threshold is not None and not store.is_threshold(threshold):
        raise Refused(f"the threshold is a number in [0, 1], not {threshold!r}")
    before = as_json(source, with_live=False)
    if threshold is not None and float(threshold) != source.threshold:
        store.set_threshold(source, threshold)
    if active is not None:
        store.set_active(source, active)
    _audit(user, "change_source", source, before, as_json(source, with_live=False))
    db.session.commit()
    return source


def _audit(user: User | None, action: str, source: SuggestionSource, before: dict | None, after: dict) -> None:
    db.session.add(
        AuditEntry(
            user_id=user.id if user is not None else None,
            action=action,
            entity="suggestion_source",
            entity_id=source.id,
            before=before,
            after=after,
        )
    )


def sources_of(task: LabellingTask) -> list[SuggestionSource]:
    """The task's sources, in the order they were added."""
    return list(
        db.session.execute(
            db.select(SuggestionSource).where(SuggestionSource.task_id == task.id).order_by(SuggestionSource.id)
        ).scalars()
    )


def as_json(source: SuggestionSource, *, with_live: bool = True) -> dict[str, Any]:
    """A source as GET /api/v1/tasks/{task_id}/models lists it: `live` is null while no run was approved after it
    was created."""
    shown: dict[str, Any] = {
        "id": source.id,
        "name": source.name,
        "version": source.version,
        "kind": source.kind.value,
        "active": source.active,
        "threshold": source.threshold,
        "created_at": source.created_at.isoformat() if source.created_at else None,
        "rows": source.rows,
    }
    if with_live:
        live = source.live
        shown["live"] = (
            None
            if live is None
            else {
                "runs": live.runs,
                "lumisections": live.lumisections,
                "roc_auc": live.roc_auc,
                "tpr_at_fpr": live.tpr_at_fpr,
                "fpr": live.fpr,
                "at": live.at.isoformat(),
            }
        )
    return shown
