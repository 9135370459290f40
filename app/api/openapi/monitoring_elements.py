"""The monitoring-elements part of the OpenAPI document: a run's elements, one lumisection's histogram, trends."""

from __future__ import annotations

from app.api.openapi.common import INTEGER, json_response, op, ref

RUN_NUMBER = {"name": "run_number", "in": "path", "required": True, "schema": {"type": "integer"}}
NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "the element's name (DQMIO's hname), percent-encoded: `+` as `%2B`",
    "schema": {"type": "string"},
}
NUMBERS = {"type": "array", "items": {"type": "number"}}
EDGES = {"type": "array", "items": {"type": "number"}, "description": "bin edges, one more than the bins"}
SCHEMAS = {
    "MonitoringElements": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name", "dimension", "lumisections"],
            "properties": {
                "name": {"type": "string"},
                "dimension": {"type": "integer", "enum": [1, 2]},
                "lumisections": {"type": "integer", "description": "how many lumisections are stored"},
            },
        },
    },
    "MonitoringElementHistogram": {
        "type": "object",
        "required": ["name", "lumisection", "x_edges", "values"],
        "properties": {
            "name": {"type": "string"},
            "lumisection": INTEGER,
            "x_edges": EDGES,
            "y_edges": EDGES | {"description": "2D only"},
            "values": {
                "type": "array",
                "description": "bin contents: numbers (1D), or one list per x bin of the y bins' contents (2D)",
                "items": {"oneOf": [{"type": "number"}, NUMBERS]},
            },
        },
    },
    "MonitoringElementTrend": {
        "type": "object",
        "required": ["name", "dimension", "group", "lumisections", "entries"],
        "properties": {
            "name": {"type": "string"},
            "dimension": {"type": "integer", "enum": [1, 2]},
            "group": {"type": "string", "enum": ["pixel", "strip", "tracking", "other"]},
            "lumisections": {"type": "array", "items": INTEGER},
            "entries": NUMBERS,
            "x_edges": EDGES
            | {"description": "1D: the edges of the bins of `shares` (adjacent bins merged beyond 200)"},
            "shares": {
                "type": "array",
                "items": NUMBERS,
                "description": "1D: per lumisection, each bin's share of its contents (summing to 1; zeros when empty)",
            },
            **{
                name: NUMBERS | {"description": f"2D: per lumisection, {text}"}
                for name, text in (
                    ("occupancy", "the share of non-empty bins"),
                    ("mean", "the mean bin content"),
                    ("mean_x", "the mean along x, in x's units"),
                    ("mean_y", "the mean along y, in y's units"),
                )
            },
        },
    },
}


def paths() -> dict:
    return {
        "/runs/{run_number}/monitoring-elements": {
            "parameters": [RUN_NUMBER],
            "get": op(
                "A run's monitoring elements (pixel, strip, tracking, then others)",
                {"200": json_response(ref("MonitoringElements"))},
                errors=("401", "403", "404"),
            ),
        },
        "/runs/{run_number}/monitoring-elements/{name}": {
            "parameters": [RUN_NUMBER, NAME],
            "get": op(
                "One lumisection's histogram of a monitoring element",
                {"200": json_response(ref("MonitoringElementHistogram"))},
                errors=("400", "401", "403", "404"),
                parameters=[
                    {
                        "name": "lumisection",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
            ),
        },
        "/runs/{run_number}/monitoring-elements/{name}/trend": {
            "parameters": [RUN_NUMBER, NAME],
            "get": op(
                "A monitoring element along the run: bin shares per lumisection (1D) or per-lumisection summaries (2D)",
                {"200": json_response(ref("MonitoringElementTrend"))},
                errors=("401", "403", "404"),
            ),
        },
    }
