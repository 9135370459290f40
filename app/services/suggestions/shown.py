"""What a shifter is shown of the suggestions, and what a certification keeps of them: the blind audit (no
suggestion reaches a shifter on a blind run before they certified it), one run's suggestions for a caller, and
the origin of each bad range, checked against the suggested ranges of its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from app.extensions import db
from app.models import Certification, LabellingTask, RangeOrigin, SuggestionScore, SuggestionSource, User
from app.services.errors import Refused
from app.services.suggestions import blind
from app.services.suggestions.ranges import Range, range_origin, suggested_ranges
from app.services.suggestions.store import run_suggestions


def is_blind(task: LabellingTask, run_number: int) -> bool:
    """Whether the run is certified blind in the task (drawn from the task's seed and blind fraction)."""
    return blind.is_blind(task.blind_seed, run_number, task.blind_fraction)


def has_certified(task: LabellingTask, run_number: int, user: User) -> bool:
    """Whether the user has a certification of the run in the task."""
    return (
        db.session.execute(
            select(Certification.id).where(
                Certification.task_id == task.id,
                Certification.run_number == run_number,
                Certification.certifier_id == user.id,
            )
        ).first()
        is not None
    )


def run_view(task: LabellingTask, run_number: int, user: User) -> dict[str, Any]:
    """One run's suggestions for the caller, as GET .../runs/{run_number}/suggestions gives them: the active
    sources' scores and suggested ranges, none on a blind run until the caller has certified it."""
    hidden = is_blind(task, run_number)
    if hidden and not has_certified(task, run_number, user):
        return {"blind": True, "sources": []}
    return {"blind": hidden, "sources": [s.as_json() for s in run_suggestions(task, run_number)]}


def source_ranges(source: SuggestionSource, run_number: int) -> list[Range]:
    """The source's suggested ranges of one run at its current threshold."""
    score = SuggestionScore.__table__.c
    rows = db.session.execute(
        select(score.lumisection, score.score)
        .where(score.source_id == source.id, score.run_number == run_number)
        .order_by(score.lumisection)
    ).all()
    pairs = np.array(rows, dtype=np.float64).reshape(-1, 2)
    return suggested_ranges(pairs[:, 0].astype(np.int64), pairs[:, 1], source.threshold)


@dataclass(frozen=True)
class Claimed:
    """A bad range as the shifter sent it: its ends and where they say it came from."""

    first: int
    last: int
    origin: str | None = None
    source_id: int | None = None


def checked_origins(
    task: LabellingTask, run_number: int, ranges: Sequence[Claimed], *, seen: bool = True
) -> list[tuple[RangeOrigin, int | None]]:
    """Each range's origin and source, from its ends and the suggested ranges of the source it names.

    A source that is not the task's is refused, naming the range. A range is `manual` (and keeps no source)
    unless it started as a suggestion of a source the shifter could see: on a blind run certified for the
    first time (`seen` false) every range is manual, whatever it claims.
    """
    problems = []
    sources: dict[int, SuggestionSource] = {}
    for index, claimed in enumerate(ranges):
        if claimed.origin is not None and claimed.origin not in {o.value for o in RangeOrigin}:
            problems.append(
                f"bad_lumisections[{index}].origin must be one of {', '.join(o.value for o in RangeOrigin)}, "
                f"not {claimed.origin!r}"
            )
        if claimed.source_id is None or claimed.source_id in sources:
            continue
        source = db.session.get(SuggestionSource, claimed.source_id)
        if source is None or source.task_id != task.id:
            problems.append(f"bad_lumisections[{index}].source_id {claimed.source_id} is not a source of this task")
        else:
            sources[source.id] = source
    if problems:
        raise Refused(problems)
    suggested: dict[int, list[Range]] = {}
    origins: list[tuple[RangeOrigin, int | None]] = []
    for claimed in ranges:
        source = sources.get(claimed.source_id) if claimed.source_id is not None else None
        if not seen or source is None:
            origins.append((RangeOrigin.MANUAL, None))
            continue
        if source.id not in suggested:
            suggested[source.id] = source_ranges(source, run_number)
        origin = range_origin(claimed.first, claimed.last, claimed.origin, suggested[source.id])
        origins.append((origin, None if origin is RangeOrigin.MANUAL else source.id))
    return origins
