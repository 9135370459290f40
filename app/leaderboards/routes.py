"""Leaderboard views."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, render_template, request
from flask_login import current_user

import scorers
from app.competitions.routes import get_competition, page_context
from app.leaderboards import bp
from app.models import Competition, CompetitionPhase
from app.models.types import utcnow
from app.services.competitions import leaderboards, phases
from app.services.competitions.charts import best_over_time
from app.services.competitions.visibility import can_see_private

TOP_IN_CHART = 10
CSV_COLUMNS = [
    "rank", "participant", "score", "submissions", "last_submitted_at", "baseline", "rank_change", "team", "members",
]  # fmt: skip


def _board(competition: Competition) -> tuple[leaderboards.Board, CompetitionPhase]:
    """The board and the phase the query names (?board=, ?phase=: the current phase by default)."""
    board = leaderboards.board_named(request.args.get("board", "public"))
    if board is None:
        abort(400, description="board must be public or private")
    phase = phases.phase_named(competition, request.args.get("phase"))
    if board == "private" and not can_see_private(competition, current_user, phase):
        what = "competition" if len(competition.phases) == 1 else "phase"
        abort(403, description=f"The private leaderboard is revealed when the {what} closes.")
    return board, phase


@bp.route("/competitions/<slug>/leaderboard")
def show(slug: str):
    """A phase's public board (private after the phase closed, and for organisers), with the best-score chart;
    a tab per phase."""
    competition = get_competition(slug)
    board, phase = _board(competition)
    rows = leaderboards.get(competition, board, phase)
    top = [row.participant for row in rows if row.rank is not None][:TOP_IN_CHART]
    scorer = scorers.get(phase.effective_metric, **phase.effective_metric_params)
    context = page_context(competition, "leaderboard")
    return render_template(
        "leaderboards/show.html",
        board=board,
        rows=rows,
        chart=best_over_time(competition, top, scorer.direction == "higher", phase),
        **context
        | {
            "phase": phase,
            "phase_state": phases.window_of(phase).state(utcnow()).value,
            "private_visible": can_see_private(competition, current_user, phase),
        },
    )


@bp.route("/competitions/<slug>/leaderboard.csv")
def download(slug: str):
    """The board as CSV."""
    competition = get_competition(slug)
    board, phase = _board(competition)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in leaderboards.get(competition, board, phase):
        writer.writerow(row.as_json() | {"members": " ".join(row.members)})
    name = competition.slug if len(competition.phases) == 1 else f"{competition.slug}-{phase.name}"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{board}-leaderboard.csv"'},
    )
