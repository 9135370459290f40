"""Competition bundles: a folder or zip with ``competition.yaml``, validated whole before anything is written.

A bundle is read by ``bundle_reader`` and checked by ``bundle_checks``; only a bundle without problems
reaches storage and the database, and a failure while storing it leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from app.extensions import db
from app.models import (
    Competition,
    CompetitionPhase,
    Dataset,
    DatasetFile,
    DatasetVersion,
    FileKind,
    LabellingTask,
    User,
)
from app.services.competitions import final_phase
from app.services.competitions.bundle_checks import validate
from app.services.competitions.bundle_reader import Bundle, megabytes, read_bundle, read_text
from app.services.errors import Refused
from app.services.queue import enqueue
from app.services.storage import StagedFiles, staged_files

PENDING_JOB = "workers.live.refresh_pending"  # a live competition's first pending.csv


def import_bundle(source: str | Path | BinaryIO, *, created_by: User | None = None) -> Competition:
    """Validate a bundle and, if it holds, store its files and create the competition; returns it, committed."""
    bundle = read_bundle(source)
    settings = validate(bundle)
    overview = ""
    if settings["overview_file"]:
        text = read_text(lambda: bundle.open(settings["overview_file"]), settings["overview_file"])
        overview = text.decode("utf-8", errors="replace")
    dataset = Dataset(slug=settings["slug"], title=settings["title"], created_by_id=created_by and created_by.id)
    # A bundle naming a task is scored on that task's labels: its readers may not compete (see eligibility).
    version = DatasetVersion(
        dataset=dataset, number=1, notes="Imported from a competition bundle.", task_id=settings["task"]
    )
    with staged_files(db.session) as files:
        _store_files(bundle, settings, version, files)
        competition = _competition(settings, version, overview, created_by)
        db.session.add_all([dataset, competition])
        _add_phases(competition, settings, files, created_by)
        db.session.commit()
    if competition.live:
        enqueue(PENDING_JOB, competition.id)
    return competition


def _store_files(bundle: Bundle, settings: dict[str, Any], version: DatasetVersion, files: StagedFiles) -> None:
    """Store the public files and the solutions (last), the phases' too, as the version's files, within the
    bundle's limit in all."""
    stored_bytes = 0
    phases = settings.get("phases", [])
    public = [*settings["files"], *(n for p in phases for n in p["files"] or [])]
    solutions = [settings["solution"], *(p["solution"] for p in phases if p["solution"])]
    for position, (name, kind) in enumerate(
        [*((n, FileKind.PUBLIC) for n in dict.fromkeys(public)), *((n, FileKind.SOLUTION) for n in solutions)]
    ):
        key = f"{version.storage_prefix}/{kind.value}/{name}"
        with bundle.open(name) as handle:
            stored = files.put(key, handle)
        stored_bytes += stored.size
        if bundle.max_total is not None and stored_bytes > bundle.max_total:
            limit = megabytes(bundle.max_total)
            raise Refused(f"The bundle's files unpack to more than {limit} in all, the most accepted.", 413)
        version.files.append(
            DatasetFile(
                kind=kind, name=name, position=position, storage_key=key, size=stored.size, sha256=stored.sha256
            )
        )


# The settings of competition.yaml that are the competition's columns as they are.
COMPETITION_COLUMNS = (
    "slug", "title", "metric", "metric_params", "id_column", "target_column", "public_fraction", "split_seed",
    "opens_at", "closes_at", "daily_limit", "total_limit", "final_selections", "live", "live_daily_limit",
    "team_max_size", "merge_deadline",
)  # fmt: skip


def _competition(
    settings: dict[str, Any], version: DatasetVersion, overview: str, created_by: User | None
) -> Competition:
    """The competition the settings describe, scored against the version's solution; its declared phases are
    added by _add_phases (without any, it has one)."""
    declared: dict[str, list] = {"phases": []} if settings.get("phases") else {}
    return Competition(
        **{column: settings[column] for column in COMPETITION_COLUMNS},
        **declared,
        overview=overview,
        dataset_version=version,
        solution_file=_stored(version, settings["solution"], FileKind.SOLUTION),
        sample_submission=settings.get("sample_submission"),
        created_by_id=created_by and created_by.id,
    )


def _stored(version: DatasetVersion, name: str, kind: FileKind) -> DatasetFile:
    return next(f for f in version.files if f.name == name and f.kind is kind)


# The settings of a phase that are its columns as they are (None: the competition's).
PHASE_COLUMNS = (
    "name", "position", "opens_at", "closes_at", "files", "metric", "metric_params", "daily_limit", "total_limit",
    "final_selections",
)  # fmt: skip


def _add_phases(
    competition: Competition, settings: dict[str, Any], files: StagedFiles, created_by: User | None
) -> None:
    """The competition's declared phases in order; one built from a task publishes its runs through files."""
    version = competition.dataset_version
    for phase in settings.get("phases", []):
        if phase["from_task"] is not None:
            db.session.flush()  # the competition's data is stored: the phase leaves out its runs
            built = final_phase.build_phase(
                competition,
                files,
                **{key: phase[key] for key in ("name", "position", "opens_at", "closes_at", "metric", "metric_params")},
                task=db.session.get_one(LabellingTask, phase["from_task"]),
                approved_after=phase["approved_after"],
                created_by=created_by,
            )
            competition.phases.append(built)
            continue
        solution = _stored(version, phase["solution"], FileKind.SOLUTION) if phase["solution"] else None
        competition.phases.append(
            CompetitionPhase(**{key: phase[key] for key in PHASE_COLUMNS}, solution_file=solution)
        )
