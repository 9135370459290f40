"""Plotly figures of competitions (best score over time, curves of a submission), as plain dicts that the
page hands to the Plotly.js the app serves."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func

from app.extensions import db
from app.models import Competition, CompetitionPhase, Participation, Submission, SubmissionStatus, Team, User

LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
    "hovermode": "closest",
    "template": "plotly_white",
}


def best_over_time(
    competition: Competition, participants: list[str], higher_is_better: bool, phase: CompetitionPhase | None = None
) -> dict:
    """Each listed entrant's best public score so far, at each of their scored submissions (in the phase).

    Entrants are named as on the leaderboard: a team by its name, a participant alone by their username.
    """
    entrant = func.coalesce(Team.name, User.username)
    in_phase = [Submission.phase_id == phase.id] if phase is not None else []
    rows = db.session.execute(
        db.select(entrant, Submission.submitted_at, Submission.public_score)
        .join(Participation, Participation.id == Submission.participation_id)
        .join(User, User.id == Participation.user_id)
        .outerjoin(Team, Team.id == Submission.team_id)
        .where(
            Submission.competition_id == competition.id,
            Submission.status == SubmissionStatus.SCORED,
            Submission.is_baseline.is_(False),
            Submission.public_score.is_not(None),
            entrant.in_(participants),
            *in_phase,
        )
        .order_by(Submission.submitted_at)
    )
    series: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    best: dict[str, float] = {}
    better = max if higher_is_better else min
    for name, when, score in rows:
        best[name] = better(best.get(name, score), score)
        series[name][0].append(when.isoformat())
        series[name][1].append(best[name])
    traces = [
        {"type": "scatter", "mode": "lines+markers", "line": {"shape": "hv"}, "name": name, "x": xs, "y": ys}
        for name in participants
        if name in series
        for xs, ys in [series[name]]
    ]
    layout = LAYOUT | {
        "xaxis": {"title": {"text": "submitted (UTC)"}},
        "yaxis": {"title": {"text": phase.effective_metric if phase is not None else competition.metric}},
    }
    return {"data": traces, "layout": layout}


def curve_figures(details: dict | None, sides: tuple[str, ...]) -> list[dict]:
    """ROC and precision-recall figures from a scorer's details, for the sides the viewer may see."""
    if not details:
        return []
    figures = []
    for curve, x_key, y_key, x_title, y_title in (
        ("roc", "fpr", "tpr", "false positive rate", "true positive rate"),
        ("pr", "recall", "precision", "recall", "precision"),
    ):
        traces = []
        for side in sides:
            points = (details.get(side) or {}).get(curve)
            if points:
                traces.append(
                    {"type": "scatter", "mode": "lines", "name": side, "x": points[x_key], "y": points[y_key]}
                )
        if traces:
            axes = {
                "xaxis": {"title": {"text": x_title}, "range": [0, 1]},
                "yaxis": {"title": {"text": y_title}, "range": [0, 1.02]},
            }
            figures.append({"id": curve, "data": traces, "layout": LAYOUT | axes})
    return figures
