"""Leaderboards as SQL over scored submissions, cached until the next score lands.

A board ranks entrants: teams, and participants alone (a team of one). Public board: each entrant's best
public score, ties to the earlier submission. Private board (after the close): each entrant's best private
score among the finals it selected, or among its best public submissions when it selected none. Baseline
submissions are listed under their name, marked, and not ranked. Each phase of a competition has its own two
boards, over the submissions made in it; a phase not yet open has empty ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import text

import scorers
from app.extensions import cache, db
from app.models import Competition, CompetitionPhase, Phase, TeamMember, User
from app.models.types import UTCDateTime, utcnow
from app.services.competitions import phases
from app.services.competitions.entrants import ENTRANT_KEY_SQL

Board = Literal["public", "private"]
BOARDS: tuple[Board, ...] = ("public", "private")
_TIMESTAMP = UTCDateTime()


@dataclass(frozen=True)
class Row:
    """One line of a leaderboard."""

    rank: int | None  # None for baselines
    participant: str  # the team's name, or the username of a participant alone
    score: float
    submission_id: int
    submissions: int
    last_submitted_at: datetime
    baseline: bool = False
    public_rank: int | None = None  # on the private board: where the entrant stood publicly
    team: str | None = None  # the team's name; None for a participant alone and for baselines
    members: tuple[str, ...] = ()  # the team's members now, in the order they joined; a participant alone
    entrant: int = field(default=0, repr=False)  # ENTRANT_KEY_SQL: tells entrants apart across boards

    @property
    def rank_change(self) -> int | None:
        """Places gained (positive) or lost from the public to the private board."""
        if self.rank is None or self.public_rank is None:
            return None
        return self.public_rank - self.rank

    def as_json(self) -> dict:
        """The row as the API and CSV export give it."""
        row = asdict(self)
        del row["entrant"]
        row["members"] = list(self.members)
        row["last_submitted_at"] = self.last_submitted_at.isoformat()
        row["rank_change"] = self.rank_change
        return row


def board_named(name: str) -> Board | None:
    """The board a request names ("public" or "private"), or None for any other word."""
    return next((board for board in BOARDS if board == name), None)


def _order(phase: CompetitionPhase) -> str:
    """SQL sort direction of the phase's metric: best first."""
    scorer = scorers.get(phase.effective_metric, **phase.effective_metric_params)
    return "DESC" if scorer.direction == "higher" else "ASC"


# An entrant's name: its team's, or its participant's (entrant keys of teams are negative, see entrants).
_NAMES = """
LEFT JOIN teams t ON t.id = -{alias}.entrant
LEFT JOIN participations p ON p.id = {alias}.entrant
LEFT JOIN users u ON u.id = p.user_id
"""

# Aggregates rather than window functions: a hash aggregate over 200,000 rows beats two sorts.
_PUBLIC_SQL = (
    """
WITH scored AS (
    SELECT s.id, {entrant} AS entrant, s.public_score, s.submitted_at
    FROM submissions s
    WHERE s.competition_id = :competition AND s.phase_id = :phase AND s.status = 'scored' AND s.is_baseline = :no
      AND s.public_score IS NOT NULL
),
best AS (
    SELECT entrant, {best}(public_score) AS score, COUNT(*) AS submissions,
           MAX(submitted_at) AS last_submitted_at
    FROM scored GROUP BY entrant
),
first_best AS (
    SELECT b.entrant, b.score, b.submissions, b.last_submitted_at,
           MIN(sc.submitted_at) AS submitted_at, MIN(sc.id) AS id
    FROM best b JOIN scored sc ON sc.entrant = b.entrant AND sc.public_score = b.score
    GROUP BY b.entrant, b.score, b.submissions, b.last_submitted_at
)
SELECT f.id, f.entrant, COALESCE(t.name, u.username), t.name, f.score, f.submissions, f.last_submitted_at
FROM first_best f"""
    + _NAMES.format(alias="f")
    + """ORDER BY f.score {order}, f.submitted_at, f.id
"""
).replace("{entrant}", ENTRANT_KEY_SQL.format(s="s"))

_PRIVATE_SQL = (
    """
WITH candidates AS (
    SELECT s.id, {entrant} AS entrant, s.private_score, s.submitted_at,
           ROW_NUMBER() OVER (PARTITION BY {entrant}
                              ORDER BY s.public_score {order}, s.submitted_at, s.id) AS public_position,
           COUNT(*) OVER (PARTITION BY {entrant}) AS submissions,
           MAX(s.submitted_at) OVER (PARTITION BY {entrant}) AS last_submitted_at
    FROM submissions s
    WHERE s.competition_id = :competition AND s.phase_id = :phase AND s.status = 'scored' AND s.is_baseline = :no
      AND s.public_score IS NOT NULL AND s.private_score IS NOT NULL
),
chose AS (
    SELECT DISTINCT {entrant} AS entrant FROM final_selections f
    JOIN submissions s ON s.id = f.submission_id
    WHERE s.competition_id = :competition AND s.phase_id = :phase AND s.status = 'scored'
),
eligible AS (
    SELECT c.*,
           ROW_NUMBER() OVER (PARTITION BY c.entrant
                              ORDER BY c.private_score {order}, c.submitted_at, c.id) AS position
    FROM candidates c
    LEFT JOIN chose ON chose.entrant = c.entrant
    LEFT JOIN final_selections f ON f.submission_id = c.id
    WHERE (chose.entrant IS NOT NULL AND f.id IS NOT NULL)
       OR (chose.entrant IS NULL AND c.public_position <= :finals)
)
SELECT e.id, e.entrant, COALESCE(t.name, u.username), t.name, e.private_score, e.submissions, e.last_submitted_at
FROM eligible e"""
    + _NAMES.format(alias="e")
    + """WHERE e.position = 1
ORDER BY e.private_score {order}, e.submitted_at, e.id
"""
).replace("{entrant}", ENTRANT_KEY_SQL.format(s="s"))

# A baseline is listed under its name (its description, else its file's), not under whoever submitted it.
_BASELINE_SQL = """
SELECT s.id, 0, CASE WHEN s.description <> '' THEN s.description ELSE s.file_name END, NULL, s.{column}, 1,
       s.submitted_at
FROM submissions s
WHERE s.competition_id = :competition AND s.phase_id = :phase AND s.status = 'scored' AND s.is_baseline = :yes
  AND s.{column} IS NOT NULL
"""


def _members(competition: Competition) -> dict[int, tuple[str, ...]]:
    """Each team's members by the team's entrant key, in the order they joined."""
    rows = db.session.execute(
        db.select(TeamMember.team_id, User.username)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.competition_id == competition.id)
        .order_by(TeamMember.joined_at, TeamMember.id)
    )
    members: dict[int, tuple[str, ...]] = {}
    for team_id, username in rows:
        members[-team_id] = (*members.get(-team_id, ()), username)
    return members


def _rows(sql: str, params: dict, members: dict[int, tuple[str, ...]], *, baseline: bool = False) -> list[Row]:
    result = db.session.execute(text(sql), params)
    rows = []
    for position, (submission_id, entrant, name, team, score, count, last) in enumerate(result, start=1):
        if isinstance(last, str):  # SQLite returns window aggregates of timestamps as text
            last = datetime.fromisoformat(last)
        last = _TIMESTAMP.process_result_value(last, None)
        if last is None:
            raise ValueError(f"submission {submission_id} has no time: a ranked row is a submission made")
        rows.append(
            Row(
                None if baseline else position,
                name,
                score,
                submission_id,
                count,
                last,
                baseline,
                team=team,
                members=() if baseline else members.get(entrant, (name,)),
                entrant=entrant,
            )
        )
    return rows


def compute(competition: Competition, board: Board, phase: CompetitionPhase | None = None) -> list[Row]:
    """The phase's board (the shown phase's by default) straight from the database, baselines merged in by score."""
    phase = phase or phases.shown_phase(competition)
    if phases.window_of(phase).state(utcnow()) is Phase.UPCOMING:
        return []
    order = _order(phase)
    params = {
        "competition": competition.id,
        "phase": phase.id,
        "no": False,
        "yes": True,
        "finals": phase.effective_final_selections,
    }
    members = _members(competition)
    if board == "public":
        ranked = _rows(_PUBLIC_SQL.format(order=order, best="MAX" if order == "DESC" else "MIN"), params, members)
    else:
        public_ranks = {row.entrant: row.rank for row in compute(competition, "public", phase) if not row.baseline}
        ranked = [
            replace(row, public_rank=public_ranks.get(row.entrant))
            for row in _rows(_PRIVATE_SQL.format(order=order), params, members)
        ]
    column = "public_score" if board == "public" else "private_score"
    baselines = _rows(_BASELINE_SQL.format(column=column), params, members, baseline=True)
    reverse = order == "DESC"
    return sorted([*ranked, *baselines], key=lambda r: (-r.score if reverse else r.score, r.rank is None))


def _key(phase: CompetitionPhase, board: Board) -> str:
    return f"leaderboard:{phase.competition_id}:{phase.id}:{board}"


def get(competition: Competition, board: Board = "public", phase: CompetitionPhase | None = None) -> list[Row]:
    """The phase's board (the shown phase's by default), from the cache when no score landed since it was
    computed. A phase's board is not cached before it opens, so that it fills as soon as it does."""
    phase = phase or phases.shown_phase(competition)
    rows = cache.get(_key(phase, board))
    if rows is None:
        rows = compute(competition, board, phase)
        if phases.window_of(phase).opened(utcnow()):
            cache.set(_key(phase, board), rows)
    return rows


def invalidate(competition: Competition) -> None:
    """Forget the cached boards of every phase of the competition: a score landed or a selection changed."""
    cache.delete_many(*(_key(phase, board) for phase in competition.phases for board in BOARDS))
