"""Sources in the database: writing a source's scores in bulk with their per-run summaries and the task's ranks
(computed in summaries: `rank_runs`, `refresh_run_stats`), changing and deleting sources, and one run's scores
of a task's active sources for the certification page.

Everything runs in the caller's transaction and commits nothing: the caller commits, and on any failure its
rollback leaves no score, summary or rank behind (PostgreSQL's COPY goes through the session's own connection).
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.extensions import db
from app.models import (
    BadRange,
    LabellingTask,
    Lumisection,
    SourceKind,
    SourceRunStat,
    SuggestionScore,
    SuggestionSource,
    TaskRun,
    User,
)
from app.services.errors import Refused
from app.services.suggestions.ranges import Range, suggested_ranges
from app.services.suggestions.source_files import SourceScores, TaskLumisections
from app.services.suggestions.summaries import dbapi_connection, rank_runs, refresh_run_stats

_COPY = "COPY suggestion_scores (run_number, source_id, lumisection, score) FROM STDIN WITH (FORMAT binary)"
COPY_ROWS = 1_000_000  # rows sent in one COPY: bounds the memory of a large import
# PostgreSQL's binary COPY: a signature, flags and header extension length, then per row a field count and
# each field's length and big-endian bytes; exact floats, and no text to format or parse.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_COPY_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("run_size", ">i4"),
        ("run_number", ">i8"),
        ("source_size", ">i4"),
        ("source_id", ">i4"),
        ("lumisection_size", ">i4"),
        ("lumisection", ">i4"),
        ("score_size", ">i4"),
        ("score", ">f8"),
    ]
)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def task_lumisections(task_id: int) -> TaskLumisections:
    """The lumisections of the task's runs, as ranges: a run numbered without gaps is one range."""
    ls = Lumisection.__table__.c
    runs = select(TaskRun.run_number).where(TaskRun.task_id == task_id)
    spans = db.session.execute(
        select(ls.run_number, func.count(), func.min(ls.number), func.max(ls.number))
        .where(ls.run_number.in_(runs))
        .group_by(ls.run_number)
    ).all()
    ranges = [(run, first, last) for run, count, first, last in spans if count == last - first + 1]
    gapped = [run for run, count, first, last in spans if count != last - first + 1]
    if gapped:
        numbers = defaultdict(list)
        query = select(ls.run_number, ls.number).where(ls.run_number.in_(gapped)).order_by(ls.run_number, ls.number)
        for run, number in db.session.execute(query):
            numbers[run].append(number)
        for run, values in numbers.items():
            array = np.asarray(values)
            breaks = np.flatnonzero(np.diff(array) != 1)
            firsts, lasts = array[np.r_[0, breaks + 1]], array[np.r_[breaks, len(array) - 1]]
            ranges.extend((run, int(a), int(b)) for a, b in zip(firsts, lasts, strict=True))
    return TaskLumisections.from_ranges(ranges)


def add_source(
    task: LabellingTask,
    scores: SourceScores,
    *,
    name: str,
    kind: SourceKind | str,
    version: str = "",
    threshold: float = 0.5,
    created_by: User | None = None,
    submission_id: int | None = None,
    competition_id: int | None = None,
    file_key: str | None = None,
    file_sha256: str | None = None,
) -> SuggestionSource:
    """A new source of the task with its checked scores, summaries and the task's ranks (not committed).

    Sources of kind live start inactive, until a shift leader activates them; the others are active at once.
    """
    kind = SourceKind(kind)
    check_settings(name, version, threshold)
    source = SuggestionSource(
        task_id=task.id,
        name=name.strip(),
        version=version.strip(),
        kind=kind,
        threshold=float(threshold),
        active=kind is not SourceKind.LIVE,
        created_by_id=created_by.id if created_by is not None else None,
        submission_id=submission_id,
        competition_id=competition_id,
        file_key=file_key,
        file_sha256=file_sha256,
        rows=len(scores),
    )
    db.session.add(source)
    db.session.flush()
    write_scores(source.id, scores)
    refresh_run_stats(source, scores)
    if source.active:
        rank_runs(task)
    return source


def check_settings(name: str, version: str, threshold: float) -> None:
    """Refuse a source's name, version or threshold that does not fit, naming each problem."""
    problems = []
    if not name or not name.strip() or len(name.strip()) > 200:
        problems.append("a source needs a name of 1 to 200 characters")
    if len(version.strip()) > 100:
        problems.append("a source's version has at most 100 characters")
    if not is_threshold(threshold):
        problems.append(f"the threshold is a number in [0, 1], not {threshold!r}")
    if problems:
        raise Refused(problems)


def is_threshold(value: object) -> bool:
    """Whether the value is a number in [0, 1] (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def write_scores(source_id: int, scores: SourceScores) -> None:
    """Insert a source's scores in bulk: binary COPY on PostgreSQL, executemany on SQLite."""
    if not len(scores):
        return
    if _dialect() == "postgresql":
        cursor = dbapi_connection().cursor()
        try:
            for start in range(0, len(scores), COPY_ROWS):
                rows = copy_rows(source_id, scores, slice(start, start + COPY_ROWS))
                cursor.copy_expert(_COPY, io.BytesIO(_COPY_SIGNATURE + rows.tobytes() + b"\xff\xff"))
        finally:
            cursor.close()
        return
    dbapi_connection().executemany(
        "INSERT INTO suggestion_scores (run_number, source_id, lumisection, score) VALUES (?, ?, ?, ?)",
        zip(
            scores.run.tolist(),
            [source_id] * len(scores),
            scores.lumisection.tolist(),
            scores.score.tolist(),
            strict=True,
        ),
    )


def copy_rows(source_id: int, scores: SourceScores, part: slice) -> np.ndarray:
    """The rows of a part of the scores in the layout of binary COPY."""
    runs = scores.run[part]
    rows = np.empty(len(runs), dtype=_COPY_ROW)
    rows["fields"] = 4
    rows["run_size"], rows["source_size"], rows["lumisection_size"], rows["score_size"] = 8, 4, 4, 8
    rows["run_number"] = runs
    rows["source_id"] = source_id
    rows["lumisection"] = scores.lumisection[part]
    rows["score"] = scores.score[part]
    return rows


def set_threshold(source: SuggestionSource, threshold: float) -> None:
    """Change a source's threshold, its summaries and, when it is active, its task's ranks (not committed)."""
    if not is_threshold(threshold):
        raise Refused(f"the threshold is a number in [0, 1], not {threshold!r}")
    source.threshold = float(threshold)
    db.session.flush()
    refresh_run_stats(source)
    if source.active:
        rank_runs(db.session.get_one(LabellingTask, source.task_id))


def set_active(source: SuggestionSource, active: bool) -> None:
    """Activate or deactivate a source and recompute its task's ranks (not committed)."""
    if source.active == bool(active):
        return
    source.active = bool(active)
    db.session.flush()
    rank_runs(db.session.get_one(LabellingTask, source.task_id))


def delete_source(source: SuggestionSource) -> None:
    """Delete a source with its scores, summaries and evaluations, and re-rank its task (not committed).

    Its scores carry no foreign key (see SuggestionScore), and SQLite enforces none: everything goes explicitly.
    Bad ranges it suggested stay, as ranges of their certification, without a source.
    """
    task = db.session.get_one(LabellingTask, source.task_id)
    db.session.execute(delete(SuggestionScore.__table__).where(SuggestionScore.__table__.c.source_id == source.id))
    db.session.execute(delete(SourceRunStat.__table__).where(SourceRunStat.__table__.c.source_id == source.id))
    db.session.execute(update(BadRange).where(BadRange.source_id == source.id).values(source_id=None))
    db.session.delete(source)
    db.session.flush()
    rank_runs(task)


@dataclass(frozen=True)
class RunSuggestion:
    """One active source's scores of one run, as the certification page and the API show them."""

    source_id: int
    name: str
    version: str
    threshold: float
    lumisections: np.ndarray
    scores: np.ndarray

    @cached_property
    def suggested_ranges(self) -> list[Range]:
        """The source's suggested bad ranges of the run at its threshold."""
        return suggested_ranges(self.lumisections, self.scores, self.threshold)

    def as_json(self) -> dict:
        """The source as GET .../runs/{run_number}/suggestions lists it."""
        return {
            "id": self.source_id,
            "name": self.name,
            "version": self.version,
            "threshold": self.threshold,
            "scores": [[n, s] for n, s in zip(self.lumisections.tolist(), self.scores.tolist(), strict=True)],
            "suggested_ranges": [[a, b] for a, b in self.suggested_ranges],
        }


def run_suggestions(task: LabellingTask, run_number: int) -> list[RunSuggestion]:
    """The scores of one run of the task from each of its active sources, in the order the sources were added."""
    sources = db.session.execute(
        select(SuggestionSource.id, SuggestionSource.name, SuggestionSource.version, SuggestionSource.threshold)
        .where(SuggestionSource.task_id == task.id, SuggestionSource.active.is_(True))
        .order_by(SuggestionSource.id)
    ).all()
    if not sources:
        return []
    by_source = _run_scores([s.id for s in sources], run_number)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    return [
        RunSuggestion(source.id, source.name, source.version, source.threshold, *by_source.get(source.id, empty))
        for source in sources
    ]


def _run_scores(source_ids: list[int], run_number: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Each source's lumisection numbers and scores of one run, sorted by lumisection.

    On PostgreSQL one row per source (its scores aggregated into arrays): the page shows a run of 3,000
    lumisections of three sources within 1.5 x the time of the page without them, where one row per score
    took longer than the rest of the page.
    """
    score = SuggestionScore.__table__.c
    if _dialect() == "postgresql":
        query = (
            select(
                score.source_id,
                func.array_agg(aggregate_order_by(score.lumisection, score.lumisection)),
                func.array_agg(aggregate_order_by(score.score, score.lumisection)),
            )
            .where(score.source_id.in_(source_ids), score.run_number == run_number)
            .group_by(score.source_id)
        )
        return {
            source_id: (np.asarray(numbers, dtype=np.int64), np.asarray(values, dtype=np.float64))
            for source_id, numbers, values in db.session.execute(query)
        }
    rows = db.session.execute(
        select(score.source_id, score.lumisection, score.score)
        .where(score.source_id.in_(source_ids), score.run_number == run_number)
        .order_by(score.source_id, score.lumisection)
    ).all()
    by_source: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for source_id, lumisection, value in rows:
        by_source[source_id].append((lumisection, value))
    pairs = {source_id: np.array(values, dtype=np.float64).reshape(-1, 2) for source_id, values in by_source.items()}
    return {source_id: (p[:, 0].astype(np.int64), p[:, 1]) for source_id, p in pairs.items()}
