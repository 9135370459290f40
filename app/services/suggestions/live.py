"""Live predictions: participants of a live competition post scores for its pending.csv, and each post becomes a
`live` source of the competition's labelling task, inactive until an organiser or shift leader activates it.

A post is all or nothing: the file must hold the id and target columns over exactly the ids of the current
pending.csv (as a submission holds the solution's ids), each a number in [0, 1]; anything else is refused with
the first offending rows named, and nothing is stored. Posts have their own daily limit per participant
(`live_daily_limit`, per UTC day), apart from the submissions' quota.

The jobs that keep live competitions up to date (workers.live) are enqueued by dotted path after the commits
they depend on, where those happen: a run import (runs.importer) rewrites pending.csv; an approval
(certification.workflow.review) rewrites it and scores every live source of the task again (live_scoring).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO

import pyarrow as pa
from flask import current_app
from sqlalchemy import func, select, update

import scorers
from app.extensions import db
from app.models import (
    Competition,
    LabellingTask,
    Participation,
    Phase,
    SourceKind,
    SuggestionSource,
    User,
)
from app.models.types import utcnow
from app.services.competitions import eligibility
from app.services.competitions.quotas import Quota, compute_quota, utc_day_start
from app.services.errors import Refused
from app.services.storage import StorageError, get_storage
from app.services.suggestions import pending, store
from app.services.suggestions.source_files import scores_from_submission


def live_task(competition: Competition) -> LabellingTask:
    """The labelling task a live competition serves; 404 when the competition is not live."""
    task_id = competition.dataset_version.task_id
    task = db.session.get(LabellingTask, task_id) if competition.live and task_id is not None else None
    if task is None:
        raise Refused(f"Competition {competition.slug!r} is not live: it takes no live predictions.", 404)
    return task


def live_quota(competition: Competition, user: User, now: datetime | None = None) -> Quota:
    """How many live posts the user has left today in the competition."""
    now = now or utcnow()
    used = db.session.execute(
        select(func.count(SuggestionSource.id)).where(
            SuggestionSource.competition_id == competition.id,
            SuggestionSource.kind == SourceKind.LIVE,
            SuggestionSource.created_by_id == user.id,
            SuggestionSource.created_at >= utc_day_start(now),
        )
    ).scalar_one()
    return compute_quota(
        now,
        used_today=used,
        used_total=used,
        daily_limit=competition.live_daily_limit,
        total_limit=None,
        closes_at=competition.closes_at,
    )


def _check_quota(competition: Competition, user: User, now: datetime) -> None:
    quota = live_quota(competition, user, now)
    if quota.exhausted:
        when = f"{quota.next_slot_at:%Y-%m-%d %H:%M} UTC" if quota.next_slot_at else "never: it closes first"
        raise Refused(
            f"You have used your {competition.live_daily_limit} live predictions of today (UTC); "
            f"the next one may be posted at {when}.",
            429,
            retry_after=quota.retry_after(now),
        )


def _participation(competition: Competition, user: User, now: datetime) -> Participation:
    """The participation live predictions are posted under, once the user may compete now."""
    phase = competition.phase(now)
    if phase is not Phase.OPEN:
        state = "has not opened yet" if phase is Phase.UPCOMING else "is closed"
        raise Refused(f"The competition {state}: live predictions are not accepted.", 403)
    reason = eligibility.why_not(competition, user)
    if reason is not None:
        raise Refused(reason, 403)
    participation = db.session.execute(
        select(Participation).where(Participation.competition_id == competition.id, Participation.user_id == user.id)
    ).scalar_one_or_none()
    if participation is None:
        raise Refused(
            f"Join the competition first: POST /api/v1/competitions/{competition.slug}/join.",
            403,
        )
    return participation


def _read(stream: IO[bytes], limit: int) -> bytes:
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise Refused(f"The file is larger than {limit // (1024 * 1024)} MB, the most accepted.", 413)
    if not content:
        raise Refused("The file is empty.")
    return content


def predictions_for(competition: Competition, ids: pa.Array) -> scorers.Solution:
    """The pending ids as a solution to read posted predictions against (the labels are unknown: 0)."""
    table = pa.table({competition.id_column: ids, competition.target_column: pa.array([0] * len(ids), pa.int8())})
    return scorers.Solution.from_table(
        table, id_column=competition.id_column, target_column=competition.target_column, public_fraction=1.0
    )


def post_live(
    competition: Competition, user: User, stream: IO[bytes], *, file_name: str | None = None, description: str = ""
) -> SuggestionSource:
    """Check a live post whole, store its file, and add it as an inactive live source of the task (committed)."""
    now = utcnow()
    task = live_task(competition)
    participation = _participation(competition, user, now)
    _check_quota(competition, user, now)
    if competition.pending_file is None:
        raise Refused("pending.csv is being prepared; post again in a moment.", 503, retry_after=5)
    content = _read(stream, current_app.config["MAX_CONTENT_LENGTH"])
    ids = pending.pending_ids(competition.pending_file)
    if not len(ids):
        raise Refused("pending.csv has no rows now: every run of the task is certified.", 409)
    try:
        predictions = scorers.read_submission(io.BytesIO(content), predictions_for(competition, ids))
    except scorers.ValidationError as error:
        raise Refused(str(error).replace("submission", "file")) from None
    scores = scores_from_submission(ids, predictions, store.task_lumisections(task.id))
    key = f"competitions/{competition.slug}/live/posts/{uuid.uuid4().hex}/{_safe_name(file_name)}"
    storage = get_storage()
    try:
        stored = storage.put(key, io.BytesIO(content))
    except StorageError as error:
        storage.delete(key)
        raise Refused(f"The file could not be stored: {error}.", 503) from None
    try:
        # Takes the participant's row lock (SQLite: the write lock) before counting again, so that concurrent
        # posts by one participant are counted one after another.
        db.session.execute(
            update(Participation)
            .where(Participation.id == participation.id)
            .values(last_submission_at=Participation.last_submission_at)
        )
        _check_quota(competition, user, now)
        source = store.add_source(
            task,
            scores,
            name=f"live {competition.slug} by {user.username}"[:200],
            version=f"{now:%Y-%m-%d %H:%M:%S}",
            kind=SourceKind.LIVE,
            created_by=user,
            competition_id=competition.id,
            file_key=key,
            file_sha256=stored.sha256,
        )
        source.description = description.strip()[:2000]
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.delete(key)
        raise
    return source


def _safe_name(name: str | None) -> str:
    base = (name or "live.csv").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in base).strip("._") or "live.csv"
    return cleaned[:200]


@dataclass(frozen=True)
class LiveRow:
    """One live source on the live leaderboard, with its latest live score."""

    rank: int | None  # None while the source has no score
    participant: str
    source_id: int
    score: float | None
    runs: int
    lumisections: int
    created_at: datetime
    evaluated_at: datetime | None

    def as_json(self) -> dict:
        """The row as GET .../live-leaderboard returns it."""
        return {
            "rank": self.rank,
            "participant": self.participant,
            "source_id": self.source_id,
            "score": self.score,
            "runs": self.runs,
            "lumisections": self.lumisections,
            "created_at": self.created_at.isoformat(),
            "evaluated_at": self.evaluated_at.isoformat() if self.evaluated_at else None,
        }


def live_leaderboard(competition: Competition) -> list[LiveRow]:
    """The competition's live sources ranked by their latest live score (ties share a rank); unscored last."""
    sources = db.session.execute(
        select(SuggestionSource)
        .where(SuggestionSource.competition_id == competition.id, SuggestionSource.kind == SourceKind.LIVE)
        .order_by(SuggestionSource.id)
    ).scalars()
    higher = scorers.get(competition.metric, **(competition.metric_params or {})).direction == "higher"
    rows = []
    for source in sources:
        latest = source.live
        rows.append(
            LiveRow(
                None,
                source.created_by.username if source.created_by else "(deleted)",
                source.id,
                latest.score if latest is not None else None,
                latest.runs if latest else 0,
                latest.lumisections if latest else 0,
                source.created_at,
                latest.at if latest else None,
            )
        )
    scored = [(row.score, row) for row in rows if row.score is not None]
    scored.sort(key=lambda pair: (-pair[0] if higher else pair[0], pair[1].source_id))
    ranked: list[LiveRow] = []
    previous, rank = None, 0
    for position, (score, row) in enumerate(scored, start=1):
        if score != previous:
            rank, previous = position, score
        ranked.append(replace(row, rank=rank))
    return ranked + [row for row in rows if row.score is None]
