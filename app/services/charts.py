"""Plotly figures, as plain dicts that the page hands to the Plotly.js the app serves."""

from __future__ import annotations

from collections import defaultdict

from app.extensions import db
from app.models import Competition, Participation, Submission, SubmissionStatus, User

LAYOUT = {"margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "hovermode": "closest", "template": "plotly_white"}


def best_over_time(competition: Competition, participants: list[str], higher_is_better: bool) -> dict:
    """Each listed participant's best public score so far, at each of their scored submissions."""
    rows = db.session.execute(
        db.select(User.username, Submission.submitted_at, Submission.public_score)
        .join(Participation, Participation.id == Submission.participation_id)
        .join(User, User.id == Participation.user_id)
        .where(
            Submission.competition_id == competition.id,
            Submission.status == SubmissionStatus.SCORED,
            Submission.is_baseline.is_(False),
            Submission.public_score.is_not(None),
            User.username.in_(participants),
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
        "yaxis": {"title": {"text": competition.metric}},
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


def shaded_ranges(ranges: list[tuple[int, int]]) -> list[dict]:
    """Lumisection ranges (inclusive) shaded red across a chart, as bad ones are drawn."""
    return [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": first - 0.5,
            "x1": last + 0.5,
            "y0": 0,
            "y1": 1,
            "fillcolor": "rgba(220, 53, 69, 0.2)",
            "line": {"width": 0},
        }
        for first, last in ranges
    ]


def run_conditions(run, bad_ranges: list[tuple[int, int]]) -> dict:
    """Per-lumisection recorded luminosity, pileup and DCS state of a run, with its bad ranges shaded."""
    numbers, recorded, pileup, dcs = [], [], [], []
    for ls in run.lumisections:
        numbers.append(ls.number)
        recorded.append(ls.recorded_lumi)
        pileup.append(ls.pileup)
        dcs.append(None if ls.dcs_ok is None else int(ls.dcs_ok))
    traces = [
        {"type": "scatter", "mode": "lines", "name": "recorded luminosity", "x": numbers, "y": recorded},
        {"type": "scatter", "mode": "lines", "name": "pileup", "x": numbers, "y": pileup, "yaxis": "y2"},
        {
            "type": "scatter",
            "mode": "markers",
            "name": "DCS ok",
            "x": numbers,
            "y": dcs,
            "yaxis": "y3",
            "marker": {"size": 4},
        },
    ]
    shapes = shaded_ranges(bad_ranges)
    layout = LAYOUT | {
        "xaxis": {"title": {"text": "lumisection"}, "domain": [0, 0.9]},
        "yaxis": {"title": {"text": "recorded luminosity"}},
        "yaxis2": {"title": {"text": "pileup"}, "overlaying": "y", "side": "right", "anchor": "x"},
        "yaxis3": {"overlaying": "y", "side": "right", "position": 0.97, "range": [-0.1, 1.1], "showticklabels": False},
        "shapes": shapes,
        "dragmode": "select",
        "legend": {"orientation": "h"},
    }
    return {"data": traces if numbers else [], "layout": layout}
