"""Leaderboard views."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, render_template, request
from flask_login import current_user

import scorers
from app.competitions.routes import get_competition, page_context
from app.leaderboards import bp
from app.models import Competition
from app.services.competitions import leaderboards
from app.services.competitions.charts import best_over_time
from app.services.competitions.visibility import can_see_private

TOP_IN_CHART = 10
CSV_COLUMNS = [
    "rank", "participant", "score", "submissions", "last_submitted_at", "baseline", "rank_change", "team", "members",
]  # fmt: skip


def _board(competition: Competition) -> leaderboards.Board:
    board = leaderboards.board_named(request.args.get("board", "public"))
    if board is None:
        abort(400, description="board must be public or private")
    if board == "private" and not can_see_private(competition, current_user):
        abort(403, description="The private leaderboard is revealed when the competition closes.")
    return board


@bp.route("/competitions/<slug>/leaderboard")
def show(slug: str):
    """The public board (private after the close, and for organisers), with the best-score chart."""
    competition = get_competition(slug)
    board = _board(competition)
    rows = leaderboards.get(competition, board)
    top = [row.participant for row in rows if row.rank is not None][:TOP_IN_CHART]
    scorer = scorers.get(competition.metric, **(competition.metric_params or {}))
    return render_template(
        "leaderboards/show.html",
        board=board,
        rows=rows,
        chart=best_over_time(competition, top, scorer.direction == "higher"),
        **page_context(competition, "leaderboard"),
    )


@bp.route("/competitions/<slug>/leaderboard.csv")
def download(slug: str):
    """The board as CSV."""
    competition = get_competition(slug)
    board = _board(competition)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in leaderboards.get(competition, board):
        writer.writerow(row.as_json() | {"members": " ".join(row.members)})
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{competition.slug}-{board}-leaderboard.csv"'},
    )
