"""The competitions part of the OpenAPI document: competitions, files, submissions, leaderboards, the caller."""

from __future__ import annotations

from app.api.openapi.common import (
    NULLABLE_NUMBER,
    NULLABLE_TIME,
    SLUG,
    SUBMISSION_ID,
    file_form,
    json_body,
    json_response,
    op,
    ref,
)
from app.api.schemas import JoinBody

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Quota": {
        "type": "object",
        "properties": {
            "remaining_today": {"type": "integer"},
            "remaining_total": {"type": ["integer", "null"]},
            "next_slot_at": NULLABLE_TIME,
        },
    },
    "CompetitionSummary": {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "phase": {"type": "string", "enum": ["upcoming", "open", "closed"]},
            "metric": {"type": "string"},
            "opens_at": NULLABLE_TIME,
            "closes_at": NULLABLE_TIME,
            "daily_limit": {"type": "integer"},
            "total_limit": {"type": ["integer", "null"]},
            "final_selections": {"type": "integer"},
            "participants": {"type": "integer"},
        },
    },
    "Competition": {
        "allOf": [
            ref("CompetitionSummary"),
            {
                "type": "object",
                "properties": {
                    "id_column": {"type": "string"},
                    "target_column": {"type": "string"},
                    "overview": {"type": "string", "description": "Markdown"},
                    "live": {"type": "boolean", "description": "serves pending.csv and takes live predictions"},
                    "live_daily_limit": {"type": ["integer", "null"], "description": "live posts a day (live only)"},
                    "joined": {"type": "boolean"},
                    "quota": {
                        "oneOf": [ref("Quota"), {"type": "null"}],
                        "description": "in the current phase (or the one the leaderboard shows when none is open)",
                    },
                    "current_phase": {"type": ["string", "null"], "description": "the phase open now"},
                    "phases": {"type": "array", "items": {"type": "string"}, "description": "phase names in order"},
                },
            },
        ]
    },
    "CompetitionPhase": {
        "type": "object",
        "required": ["name", "opens_at", "closes_at", "state", "current"],
        "properties": {
            "name": {"type": "string"},
            "position": {"type": "integer"},
            "opens_at": {**NULLABLE_TIME, "description": "null: open from the start"},
            "closes_at": {**NULLABLE_TIME, "description": "null: never closes"},
            "state": {"type": "string", "enum": ["upcoming", "open", "closed"]},
            "current": {"type": "boolean", "description": "the phase open now, the only one taking submissions"},
            "metric": {"type": "string"},
            "daily_limit": {"type": "integer"},
            "total_limit": {"type": ["integer", "null"]},
            "final_selections": {"type": "integer"},
            "files": {"type": "array", "items": {"type": "string"}, "description": "downloadable once it opens"},
            "test_file": {"type": ["string", "null"], "description": "the file whose ids its submissions predict"},
        },
    },
    "File": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "size": {"type": "integer"}, "sha256": {"type": "string"}},
    },
    "Submission": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "competition": {"type": "string"},
            "phase": {"type": "string", "description": "the phase it was made in, scored and ranked in"},
            "participant": {"type": "string", "description": "who made it"},
            "team": {"type": ["string", "null"], "description": "the team it counts for; null for its author alone"},
            "status": {"type": "string", "enum": ["queued", "scoring", "scored", "failed"]},
            "description": {"type": "string"},
            "file_name": {"type": "string"},
            "file_size": {"type": "integer"},
            "file_sha256": {"type": "string"},
            "public_score": NULLABLE_NUMBER,
            "private_score": {**NULLABLE_NUMBER, "description": "null until the caller may see it"},
            "n_public": {"type": ["integer", "null"]},
            "n_private": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]},
            "counted": {"type": "boolean", "description": "charged to the quota"},
            "baseline": {"type": "boolean"},
            "selected": {"type": "boolean"},
            "submitted_at": {"type": "string", "format": "date-time"},
            "finished_at": NULLABLE_TIME,
        },
    },
    "LeaderboardRow": {
        "type": "object",
        "properties": {
            "rank": {"type": ["integer", "null"], "description": "null for baselines"},
            "participant": {
                "type": "string",
                "description": "the team's name, or the username of a participant alone; a baseline's name",
            },
            "team": {"type": ["string", "null"], "description": "the team's name; null for a participant alone"},
            "members": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the team's members in the order they joined (a participant alone: them)",
            },
            "score": {"type": "number"},
            "submissions": {"type": "integer"},
            "last_submitted_at": {"type": "string", "format": "date-time"},
            "baseline": {"type": "boolean"},
            "public_rank": {"type": ["integer", "null"]},
            "rank_change": {"type": ["integer", "null"]},
        },
    },
    "Me": {
        "type": "object",
        "required": ["username", "roles"],
        "properties": {
            "username": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "roles": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Selection": {
        "type": "object",
        "required": ["id", "selected"],
        "properties": {"id": {"type": "integer"}, "selected": {"type": "boolean"}},
    },
}


def paths() -> dict:
    submission = json_response(ref("Submission"))
    return {
        "/me": {"get": op("The user the token belongs to", {"200": json_response(ref("Me"))}, errors=("401",))},
        "/token": {"delete": op("Revoke the token of this call", {"204": {"description": "Revoked"}}, errors=("401",))},
        "/competitions": {
            "get": op(
                "List competitions",
                {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {"competitions": {"type": "array", "items": ref("CompetitionSummary")}},
                        }
                    )
                },
                public=True,
            )
        },
        "/competitions/{slug}": {
            "parameters": [SLUG],
            "get": op(
                "A competition, with the caller's quota",
                {"200": json_response(ref("Competition"))},
                errors=("404",),
                public=True,
            ),
        },
        "/competitions/{slug}/join": {
            "parameters": [SLUG],
            "post": op(
                "Join and accept the rules (researchers; never anyone who can read the test set's labels)",
                {"200": json_response({"type": "object", "properties": {"joined": {"type": "boolean"}}})},
                errors=("400", "401", "403", "404"),
                requestBody=json_body(JoinBody),
            ),
        },
        "/competitions/{slug}/files": {
            "parameters": [SLUG],
            "get": op(
                "Public files with size and sha256",
                {
                    "200": json_response(
                        {"type": "object", "properties": {"files": {"type": "array", "items": ref("File")}}}
                    )
                },
                errors=("401", "403", "404"),
            ),
        },
        "/competitions/{slug}/files/{name}": {
            "parameters": [
                SLUG,
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "get": op(
                "Download a public file (HTTP ranges supported), or a redirect to a storage URL",
                {
                    "200": {
                        "description": "The file",
                        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "302": {"description": "Redirect to a short-lived storage URL"},
                },
                errors=("401", "403", "404"),
            ),
        },
        "/competitions/{slug}/submissions": {
            "parameters": [SLUG],
            "post": op(
                "Submit predictions",
                {
                    "202": json_response(
                        {
                            "type": "object",
                            "properties": {"id": {"type": "integer"}, "status": {"type": "string"}},
                        },
                        "Queued",
                    )
                },
                errors=("400", "401", "403", "404", "413", "429", "503"),
                requestBody=file_form(
                    description={
                        "type": "string",
                        "description": "a note; a baseline is listed on the leaderboard under it",
                    },
                    baseline={
                        "type": "string",
                        "enum": ["true", "false"],
                        "default": "false",
                        "description": "organisers: submit as a baseline, without joining: "
                        "listed under its description, never ranked, charged to no quota",
                    },
                    phase={
                        "type": "string",
                        "description": "the phase meant: refused (403, with its dates) unless it is the one open now; "
                        "without it, the phase open now. Organisers' baselines go to any phase named",
                    },
                ),
            ),
            "get": op(
                "The caller's submissions",
                {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {"submissions": {"type": "array", "items": ref("Submission")}},
                        }
                    )
                },
                errors=("401", "404"),
            ),
        },
        "/submissions/{submission_id}": {
            "parameters": [SUBMISSION_ID],
            "get": op("Status and scores of a submission", {"200": submission}, errors=("401", "404")),
        },
        "/submissions/{submission_id}/select": {
            "parameters": [SUBMISSION_ID],
            "post": op(
                "Pick as a final for the private board",
                {"200": json_response(ref("Selection"))},
                errors=("401", "404", "409"),
            ),
            "delete": op("Unpick", {"200": json_response(ref("Selection"))}, errors=("401", "404", "409")),
        },
        "/competitions/{slug}/leaderboard": {
            "parameters": [
                SLUG,
                {
                    "name": "board",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["public", "private"], "default": "public"},
                },
                {
                    "name": "phase",
                    "in": "query",
                    "description": "a phase's name (default: the current phase, else the latest opened); a phase not "
                    "yet open has an empty board; an unknown name is a 404 listing the phases",
                    "schema": {"type": "string"},
                },
            ],
            "get": op(
                "Ranked rows of the public board, or of the private one once revealed",
                {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "board": {"type": "string"},
                                "phase": {"type": "string"},
                                "rows": {"type": "array", "items": ref("LeaderboardRow")},
                            },
                        }
                    )
                },
                errors=("400", "403", "404"),
                public=True,
            ),
        },
        "/competitions/{slug}/phases": {
            "parameters": [SLUG],
            "get": op(
                "The competition's phases in order, with their dates, state and the current one",
                {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "competition": {"type": "string"},
                                "phases": {"type": "array", "items": ref("CompetitionPhase")},
                            },
                        }
                    )
                },
                errors=("404",),
                public=True,
            ),
        },
    }
