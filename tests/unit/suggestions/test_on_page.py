"""What the certification page draws of a run's sources: one score track each, its threshold line and its
suggested ranges shaded."""

from __future__ import annotations

import numpy as np

from app.services.suggestions.on_page import score_chart
from app.services.suggestions.store import RunSuggestion


def test_score_chart_draws_each_source_with_its_threshold_and_ranges():
    sources = [
        RunSuggestion(1, "ae", "v1", 0.5, np.arange(1, 7), np.array([0.1, 0.7, 0.8, 0.2, 0.9, 0.1])),
        RunSuggestion(2, "lr", "", 0.95, np.arange(1, 7), np.full(6, 0.3)),
    ]
    figure = score_chart(sources)
    assert [trace["name"] for trace in figure["data"]] == ["ae v1", "lr"]
    assert figure["data"][0]["y"] == [0.1, 0.7, 0.8, 0.2, 0.9, 0.1]
    lines = [s for s in figure["layout"]["shapes"] if s["type"] == "line"]
    assert [line["y0"] for line in lines] == [0.5, 0.95]
    shaded = [(s["x0"], s["x1"]) for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    assert shaded == [(1.5, 3.5), (4.5, 5.5)]  # ae suggests 2-3 and 5; lr suggests nothing


def test_score_chart_without_sources_has_no_trace():
    assert score_chart([])["data"] == []
