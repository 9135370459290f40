"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from flask import jsonify

from app.api import bp
from app.models.certification import PROBLEM_CATEGORIES

ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "No token, or an invalid or revoked one",
    "403": "Not allowed",
    "404": "Unknown",
    "409": "Conflict",
    "413": "Too large",
    "429": "Quota or rate limit reached; see Retry-After",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _op(summary: str, responses: dict, *, errors: tuple[str, ...] = (), public: bool = False, **extra) -> dict:
    operation = {"summary": summary, "responses": responses | _errors(*errors), **extra}
    if public:
        operation["security"] = [{}, {"bearer": []}]
    return operation


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
SUBMISSION_ID = {"name": "submission_id", "in": "path", "required": True, "schema": {"type": "integer"}}
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

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
            _ref("CompetitionSummary"),
            {
                "type": "object",
                "properties": {
                    "id_column": {"type": "string"},
                    "target_column": {"type": "string"},
                    "overview": {"type": "string", "description": "Markdown"},
                    "joined": {"type": "boolean"},
                    "quota": {"oneOf": [_ref("Quota"), {"type": "null"}]},
                },
            },
        ]
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
            "participant": {"type": "string"},
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
            "participant": {"type": "string"},
            "score": {"type": "number"},
            "submissions": {"type": "integer"},
            "last_submitted_at": {"type": "string", "format": "date-time"},
            "baseline": {"type": "boolean"},
            "public_rank": {"type": ["integer", "null"]},
            "rank_change": {"type": ["integer", "null"]},
        },
    },
}


def _paths() -> dict:
    submission = _json(_ref("Submission"))
    return {
        "/me": {"get": _op("The user the token belongs to", {"200": _json({"type": "object"})}, errors=("401",))},
        "/token": {
            "delete": _op("Revoke the token of this call", {"204": {"description": "Revoked"}}, errors=("401",))
        },
        "/competitions": {
            "get": _op(
                "List competitions",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"competitions": {"type": "array", "items": _ref("CompetitionSummary")}},
                        }
                    )
                },
                public=True,
            )
        },
        "/competitions/{slug}": {
            "parameters": [SLUG],
            "get": _op(
                "A competition, with the caller's quota",
                {"200": _json(_ref("Competition"))},
                errors=("404",),
                public=True,
            ),
        },
        "/competitions/{slug}/join": {
            "parameters": [SLUG],
            "post": _op(
                "Join and accept the rules",
                {"200": _json({"type": "object", "properties": {"joined": {"type": "boolean"}}})},
                errors=("400", "401", "404"),
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["accept_rules"],
                                "properties": {"accept_rules": {"const": True}},
                            }
                        }
                    },
                },
            ),
        },
        "/competitions/{slug}/files": {
            "parameters": [SLUG],
            "get": _op(
                "Public files with size and sha256",
                {"200": _json({"type": "object", "properties": {"files": {"type": "array", "items": _ref("File")}}})},
                errors=("401", "403", "404"),
            ),
        },
        "/competitions/{slug}/files/{name}": {
            "parameters": [
                SLUG,
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "get": _op(
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
            "post": _op(
                "Submit predictions",
                {
                    "202": _json(
                        {
                            "type": "object",
                            "properties": {"id": {"type": "integer"}, "status": {"type": "string"}},
                        },
                        "Queued",
                    )
                },
                errors=("400", "401", "403", "404", "413", "429"),
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "description": {"type": "string"},
                                },
                            }
                        }
                    },
                },
            ),
            "get": _op(
                "The caller's submissions",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"submissions": {"type": "array", "items": _ref("Submission")}},
                        }
                    )
                },
                errors=("401", "404"),
            ),
        },
        "/submissions/{submission_id}": {
            "parameters": [SUBMISSION_ID],
            "get": _op("Status and scores of a submission", {"200": submission}, errors=("401", "404")),
        },
        "/submissions/{submission_id}/select": {
            "parameters": [SUBMISSION_ID],
            "post": _op(
                "Pick as a final for the private board",
                {"200": _json({"type": "object"})},
                errors=("401", "404", "409"),
            ),
            "delete": _op("Unpick", {"200": _json({"type": "object"})}, errors=("401", "404", "409")),
        },
        "/competitions/{slug}/leaderboard": {
            "parameters": [
                SLUG,
                {
                    "name": "board",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["public", "private"], "default": "public"},
                },
            ],
            "get": _op(
                "Ranked rows of the public board, or of the private one once revealed",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "board": {"type": "string"},
                                "rows": {"type": "array", "items": _ref("LeaderboardRow")},
                            },
                        }
                    )
                },
                errors=("400", "403", "404"),
                public=True,
            ),
        },
    }


TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}}
CERTIFICATION_ID = {"name": "certification_id", "in": "path", "required": True, "schema": {"type": "integer"}}
CERTIFICATION_BODY = {
    "type": "object",
    "required": ["run_number", "pixel", "strip", "tracking", "checklist"],
    "properties": {
        "run_number": {"type": "integer"},
        "reco": {"type": "string", "enum": ["express", "prompt", "rereco"]},
        **{c: {"type": "string", "enum": ["good", "bad", "excluded"]} for c in ("pixel", "strip", "tracking")},
        **{f"{c}_lowstat": {"type": "boolean"} for c in ("pixel", "strip", "tracking")},
        "bad_lumisections": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["first", "last"],
                "properties": {
                    "first": {"type": "integer"},
                    "last": {"type": "integer"},
                    "components": {"type": "array", "items": {"type": "string"}},
                    "comment": {"type": "string"},
                },
            },
        },
        "reference_run": {"type": ["integer", "null"]},
        "trackermap": {"type": "string", "enum": ["exists", "missing"]},
        "checklist": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "problem_categories": {"type": "array", "items": {"type": "string", "enum": list(PROBLEM_CATEGORIES)}},
        "bad_reason": {"type": "string", "maxLength": 300},
        "comment": {"type": "string"},
    },
}


def _certification_paths() -> dict:
    return {
        "/runs/{run_number}": {
            "parameters": [{"name": "run_number", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": _op(
                "A run's metadata and lumisections", {"200": _json({"type": "object"})}, errors=("401", "403", "404")
            ),
        },
        "/tasks": {
            "get": _op(
                "Labelling tasks with progress counts", {"200": _json({"type": "object"})}, errors=("401", "403")
            )
        },
        "/tasks/{task_id}/certifications": {
            "parameters": [TASK_ID],
            "post": _op(
                "Certify one run of the task",
                {"201": _json({"type": "object", "properties": {"id": {"type": "integer"}}}, "Created")},
                errors=("400", "401", "403", "404", "409"),
                requestBody={"required": True, "content": {"application/json": {"schema": CERTIFICATION_BODY}}},
            ),
        },
        "/certifications/{certification_id}": {
            "parameters": [CERTIFICATION_ID],
            "get": _op("One certification", {"200": _json({"type": "object"})}, errors=("401", "403", "404")),
            "put": _op(
                "Change a certification (its certifier or a shift leader); it goes back to review",
                {"200": _json({"type": "object"})},
                errors=("400", "401", "403", "404"),
                requestBody={"required": True, "content": {"application/json": {"schema": CERTIFICATION_BODY}}},
            ),
        },
        "/certifications/{certification_id}/review": {
            "parameters": [CERTIFICATION_ID],
            "post": _op(
                "Approve or reject a certification (shift leaders)",
                {"200": _json({"type": "object"})},
                errors=("400", "401", "403", "404"),
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["decision"],
                                "properties": {
                                    "decision": {"type": "string", "enum": ["approve", "reject"]},
                                    "comment": {"type": "string"},
                                },
                            }
                        }
                    },
                },
            ),
        },
        "/certifications/{certification_id}/reference": {
            "parameters": [CERTIFICATION_ID],
            "post": _op(
                "Make the certified run a reference run (shift leaders)",
                {"201": _json({"type": "object"})},
                errors=("400", "401", "403", "404"),
            ),
        },
        "/tasks/{task_id}/golden.json": {
            "parameters": [TASK_ID],
            "get": _op(
                "Golden JSON of the task's approved good lumisections",
                {"200": _json({"type": "object"})},
                errors=("401", "403", "404"),
            ),
        },
    }


def document() -> dict:
    """The OpenAPI document of every route under /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DQM Playground API",
            "version": "1",
            "description": "Competitions, submissions and leaderboards. Send `Authorization: Bearer <token>`; "
            'errors are `{"error": {"code", "message"}}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths() | _certification_paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                f"E{code}": {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
                for code, text in ERROR_STATUSES.items()
            },
        },
    }


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3 document."""
    return jsonify(document())
