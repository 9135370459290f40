"""API routes of live competitions: posting live predictions, and the live leaderboard."""

from __future__ import annotations

from flask import jsonify

from app.api import bp
from app.api.auth import api_user, token_required
from app.api.schemas import posted_predictions
from app.extensions import db
from app.models import Competition
from app.services.suggestions import live


def _competition(slug: str) -> Competition:
    return db.one_or_404(
        db.select(Competition).where(Competition.slug == slug), description=f"No competition {slug!r}."
    )


@bp.post("/competitions/<slug>/live")
@token_required
def post_live(slug: str):
    """Participants: live predictions for the current pending.csv (multipart `file`, optional `description`)."""
    competition = _competition(slug)
    live.live_task(competition)  # 404 before reading anything when the competition is not live
    source = live.post_live(competition, api_user(), **posted_predictions())
    return jsonify(source_id=source.id), 202


@bp.get("/competitions/<slug>/live-leaderboard")
def live_leaderboard(slug: str):
    """Live sources ranked by the competition's metric on the runs approved after each was posted."""
    competition = _competition(slug)
    live.live_task(competition)
    rows = [row.as_json() for row in live.live_leaderboard(competition)]
    return jsonify(competition=competition.slug, metric=competition.metric, rows=rows)
