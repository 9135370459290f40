"""What the certification page shows of a run's suggestions: the active sources' scores and suggested ranges,
nothing of them on a blind run until the viewer has certified it, and the score chart drawn under the
conditions chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from app.extensions import db
from app.models import LabellingTask, SuggestionSource, User
from app.services.runs.charts import LAYOUT, shaded_ranges
from app.services.suggestions import shown
from app.services.suggestions.store import RunSuggestion, run_suggestions

COLOURS = ("#6f42c1", "#fd7e14", "#20c997", "#0d6efd", "#d63384")


@dataclass(frozen=True)
class PageSuggestions:
    """A run's suggestions as one viewer may see them.

    blind: the run belongs to the task's blind share; hidden: it is blind and the viewer has not certified it
    yet, so sources is empty; once they have, the sources are revealed and they may change their answer.
    """

    blind: bool
    hidden: bool
    sources: list[RunSuggestion] = field(default_factory=list)

    @property
    def revealed(self) -> bool:
        """A blind run the viewer certified: the suggestions are shown after their first answer."""
        return self.blind and not self.hidden


def for_viewer(task: LabellingTask, run_number: int, user: User) -> PageSuggestions:
    """The run's active sources for this viewer, none on a blind run they have not certified (as the API's)."""
    is_blind = shown.is_blind(task, run_number)
    if is_blind and not shown.has_certified(task, run_number, user):
        return PageSuggestions(blind=True, hidden=True)
    return PageSuggestions(blind=is_blind, hidden=False, sources=run_suggestions(task, run_number))


def score_chart(sources: list[RunSuggestion]) -> dict:
    """Each source's score along the lumisections, its threshold as a dashed line and its suggested ranges
    shaded, as a Plotly figure (a dict); no traces without sources."""
    traces, shapes = [], []
    for index, source in enumerate(sources):
        colour = COLOURS[index % len(COLOURS)]
        label = f"{source.name} {source.version}".strip()
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": source.lumisections.tolist(),
                "y": np.round(source.scores, 3).tolist(),
                "line": {"color": colour, "width": 1.5},
                "meta": {"source_id": source.source_id},
            }
        )
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": source.threshold,
                "y1": source.threshold,
                "line": {"color": colour, "width": 1, "dash": "dash"},
            }
        )
    shapes.extend(suggested_shading(sources))
    layout = LAYOUT | {
        "xaxis": {"title": {"text": "lumisection"}, "domain": [0, 0.9]},
        "yaxis": {"title": {"text": "score"}, "range": [-0.02, 1.02]},
        "shapes": shapes,
        "legend": {"orientation": "h"},
    }
    return {"data": traces, "layout": layout}


def suggested_shading(sources: list[RunSuggestion]) -> list[dict]:
    """Each source's suggested ranges shaded faintly in its colour, as the score chart and the monitoring
    elements' trends draw them (Plotly shapes)."""
    return [
        shape
        for index, source in enumerate(sources)
        for shape in shaded_ranges(source.suggested_ranges, COLOURS[index % len(COLOURS)], opacity=0.12)
    ]


def source_names(task: LabellingTask) -> dict[int, str]:
    """Every source of the task by id, as "name version", to tell reviewers where a bad range came from."""
    rows = db.session.execute(
        select(SuggestionSource.id, SuggestionSource.name, SuggestionSource.version).where(
            SuggestionSource.task_id == task.id
        )
    ).all()
    return {row.id: f"{row.name} {row.version}".strip() for row in rows}
