"""Plotly figures of runs along their lumisections (conditions, bad ranges shaded), as plain dicts that the
page hands to the Plotly.js the app serves."""

from __future__ import annotations

from app.services.runs.luminosity import luminosity_series

LAYOUT = {"margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "hovermode": "closest", "template": "plotly_white"}
BAD_FILL = "rgba(220, 53, 69, 0.2)"  # bad lumisections, shaded across a chart


def shaded_ranges(ranges: list[tuple[int, int]], fillcolor: str = BAD_FILL, **style: float) -> list[dict]:
    """Lumisection ranges (inclusive) shaded across a chart: red, as bad ones are drawn, unless told otherwise."""
    return [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": first - 0.5,
            "x1": last + 0.5,
            "y0": 0,
            "y1": 1,
            "fillcolor": fillcolor,
            "line": {"width": 0},
            **style,
        }
        for first, last in ranges
    ]


def run_conditions(run, bad_ranges: list[tuple[int, int]]) -> dict:
    """Per-lumisection recorded luminosity (in the unit its largest value reads well in), pileup and DCS state of a
    run, with its bad ranges shaded."""
    numbers, recorded, pileup, dcs = [], [], [], []
    for ls in run.lumisections:
        numbers.append(ls.number)
        recorded.append(ls.recorded_lumi)
        pileup.append(ls.pileup)
        dcs.append(None if ls.dcs_ok is None else int(ls.dcs_ok))
    luminosity = luminosity_series(recorded)
    traces = [
        {"type": "scatter", "mode": "lines", "name": luminosity.title, "x": numbers, "y": luminosity.values},
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
        "yaxis": {"title": {"text": luminosity.title}},
        "yaxis2": {"title": {"text": "pileup"}, "overlaying": "y", "side": "right", "anchor": "x"},
        "yaxis3": {"overlaying": "y", "side": "right", "position": 0.97, "range": [-0.1, 1.1], "showticklabels": False},
        "shapes": shapes,
        "dragmode": "select",
        "legend": {"orientation": "h"},
    }
    return {"data": traces if numbers else [], "layout": layout}
