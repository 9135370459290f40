"""The live competitions part of the OpenAPI document: live predictions and the live leaderboard."""

from __future__ import annotations

from app.api.openapi.common import (
    NULLABLE_INTEGER,
    NULLABLE_NUMBER,
    NULLABLE_TIME,
    SLUG,
    file_form,
    json_response,
    op,
    ref,
)

SCHEMAS = {
    "LiveLeaderboardRow": {
        "type": "object",
        "required": ["rank", "participant", "source_id", "score", "runs", "lumisections"],
        "properties": {
            "rank": {**NULLABLE_INTEGER, "description": "null while the source has no live score"},
            "participant": {"type": "string"},
            "source_id": {"type": "integer"},
            "score": {
                **NULLABLE_NUMBER,
                "description": "the competition's metric on the lumisections it scored of runs approved after it "
                "was posted; null while there are none (or the metric cannot be computed on them)",
            },
            "runs": {"type": "integer"},
            "lumisections": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "evaluated_at": NULLABLE_TIME,
        },
    },
}


def paths() -> dict:
    """The live competitions' routes."""
    return {
        "/competitions/{slug}/live": {
            "parameters": [SLUG],
            "post": op(
                "Post live predictions for the current pending.csv: a live source of the competition's task, "
                "inactive until an organiser or shift leader activates it",
                {
                    "202": json_response(
                        {"type": "object", "required": ["source_id"], "properties": {"source_id": {"type": "integer"}}},
                        "Accepted as a live source",
                    )
                },
                errors=("400", "401", "403", "404", "409", "413", "429", "503"),
                requestBody=file_form(
                    file={
                        "description": "CSV (or gzip CSV, Parquet) with the id and target columns, "
                        "one row per id of the current pending.csv, each a score in [0, 1]"
                    },
                    description={"type": "string", "description": "a note on the model"},
                ),
            ),
        },
        "/competitions/{slug}/live-leaderboard": {
            "parameters": [SLUG],
            "get": op(
                "Live sources ranked by the competition's metric on runs approved after each was posted",
                {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "competition": {"type": "string"},
                                "metric": {"type": "string"},
                                "rows": {"type": "array", "items": ref("LiveLeaderboardRow")},
                            },
                        }
                    )
                },
                errors=("404",),
                public=True,
            ),
        },
    }
