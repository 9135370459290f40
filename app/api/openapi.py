"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from flask import jsonify, render_template_string

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
    "503": "Unavailable for a moment (e.g. the file store); retry, after Retry-After when given",
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
        "/me": {"get": _op("The user the token belongs to", {"200": _json(_ref("Me"))}, errors=("401",))},
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
                errors=("400", "401", "403", "404", "413", "429", "503"),
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
                {"200": _json(_ref("Selection"))},
                errors=("401", "404", "409"),
            ),
            "delete": _op("Unpick", {"200": _json(_ref("Selection"))}, errors=("401", "404", "409")),
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
            "get": _op("A run's metadata and lumisections", {"200": _json(_ref("Run"))}, errors=("401", "403", "404")),
        },
        "/tasks": {
            "get": _op("Labelling tasks with progress counts", {"200": _json(_ref("Tasks"))}, errors=("401", "403"))
        },
        "/tasks/{task_id}/certifications": {
            "parameters": [TASK_ID],
            "post": _op(
                "Certify one run of the task",
                {"201": _json(_ref("Certification"), "Created")},
                errors=("400", "401", "403", "404", "409"),
                requestBody={"required": True, "content": {"application/json": {"schema": CERTIFICATION_BODY}}},
            ),
        },
        "/certifications/{certification_id}": {
            "parameters": [CERTIFICATION_ID],
            "get": _op("One certification", {"200": _json(_ref("Certification"))}, errors=("401", "403", "404")),
            "put": _op(
                "Change a certification (its certifier or a shift leader); it goes back to review",
                {"200": _json(_ref("Certification"))},
                errors=("400", "401", "403", "404"),
                requestBody={"required": True, "content": {"application/json": {"schema": CERTIFICATION_BODY}}},
            ),
        },
        "/certifications/{certification_id}/review": {
            "parameters": [CERTIFICATION_ID],
            "post": _op(
                "Approve or reject a certification (shift leaders)",
                {"200": _json(_ref("ReviewResult"))},
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
                {"201": _json(_ref("ReferenceRun"))},
                errors=("400", "401", "403", "404"),
            ),
        },
        "/tasks/{task_id}/golden.json": {
            "parameters": [TASK_ID],
            "get": _op(
                "Golden JSON of the task's approved good lumisections",
                {"200": _json(_ref("GoldenJSON"))},
                errors=("401", "403", "404"),
            ),
        },
    }


UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
TRANSFER_SCHEMAS = {
    "UploadPart": {
        "type": "object",
        "required": ["number", "offset", "size", "url"],
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "offset": {"type": "integer", "description": "first byte of the file in this part"},
            "size": {"type": "integer"},
            "url": {"type": "string", "description": "presigned URL to PUT exactly these bytes to"},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "headers the PUT must carry as given (the checksums announced, signed into the URL)",
            },
        },
    },
    "Upload": {
        "type": "object",
        "required": ["id", "parts", "expires_at"],
        "properties": {
            "id": {"type": "string"},
            "size": {"type": "integer"},
            "expires_at": {"type": "string", "format": "date-time"},
            "parts": {"type": "array", "items": _ref("UploadPart")},
            "complete_url": {"type": "string"},
        },
    },
    "Queued": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {"id": {"type": "integer"}, "status": {"type": "string", "enum": ["queued"]}},
    },
    "Export": {
        "type": "object",
        "required": ["id", "competition", "status"],
        "properties": {
            "id": {"type": "integer"},
            "competition": {"type": "string"},
            "status": {"type": "string", "enum": ["building", "ready", "failed"]},
            "file_name": {"type": "string"},
            "files": {"type": ["integer", "null"], "description": "submission files in the zip"},
            "size": {"type": ["integer", "null"]},
            "sha256": {"type": ["string", "null"]},
            "error": {"type": ["string", "null"]},
            "requested_at": {"type": "string", "format": "date-time"},
            "finished_at": NULLABLE_TIME,
            "download_url": {"type": ["string", "null"]},
        },
    },
}
EXPORT_ID = {"name": "export_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _transfer_paths() -> dict:
    return {
        "/competitions/{slug}/uploads": {
            "parameters": [SLUG],
            "post": _op(
                "Start a direct upload to the file store (S3 backends): announce the file, get presigned URLs. "
                "PUT each part's bytes to its URL, then confirm. A filesystem backend answers 409 "
                "`direct_uploads_unavailable`: post the file to /competitions/{slug}/submissions instead.",
                {"201": _json(_ref("Upload"), "Presigned URLs, valid until expires_at")},
                errors=("400", "401", "403", "404", "409", "413", "429", "503"),
                requestBody=_json_body(
                    {
                        "type": "object",
                        "required": ["file_name", "size"],
                        "properties": {
                            "file_name": {"type": "string"},
                            "size": {"type": "integer", "minimum": 1},
                            "description": {"type": "string"},
                            "sha256": {
                                "type": "string",
                                "pattern": "^[0-9a-fA-F]{64}$",
                                "description": "optional: the file's SHA-256, for the store to check a single PUT",
                            },
                            "parts": {
                                "type": "array",
                                "description": "optional: the parts to send, in order, each with its CRC32 for the "
                                "store to check on arrival; every part but the last at least 5 MiB",
                                "items": {
                                    "type": "object",
                                    "required": ["size", "crc32"],
                                    "properties": {
                                        "size": {"type": "integer", "minimum": 1},
                                        "crc32": {"type": "string", "description": "4 bytes, big-endian, base64"},
                                    },
                                },
                            },
                        },
                    }
                ),
            ),
        },
        "/uploads/{upload_id}/complete": {
            "parameters": [UPLOAD_ID],
            "post": _op(
                "Confirm a direct upload: the server checks the stored file's size and sha256, then queues it "
                "as a submission (charging the quota). A mismatch deletes the file: 400, nothing is left.",
                {"202": _json(_ref("Queued"), "Queued")},
                errors=("400", "401", "403", "404", "409", "429", "503"),
                requestBody=_json_body(
                    {
                        "type": "object",
                        "required": ["size", "sha256"],
                        "properties": {
                            "size": {"type": "integer"},
                            "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                        },
                    }
                ),
            ),
        },
        "/docs": {
            "get": _op(
                "This document as a readable page",
                {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
                public=True,
            )
        },
        "/uploads/{upload_id}": {
            "parameters": [UPLOAD_ID],
            "delete": _op(
                "Cancel an unconfirmed upload and remove what reached the store",
                {"204": {"description": "Cancelled"}},
                errors=("401", "404", "409"),
            ),
        },
        "/competitions/{slug}/exports": {
            "parameters": [SLUG],
            "post": _op(
                "Organisers: start a job building one zip of every submission file and scores.csv "
                "(or get the export already building)",
                {"202": _json(_ref("Export"), "Building")},
                errors=("401", "403", "404"),
            ),
        },
        "/exports/{export_id}": {
            "parameters": [EXPORT_ID],
            "get": _op(
                "Organisers: where an export stands", {"200": _json(_ref("Export"))}, errors=("401", "403", "404")
            ),
        },
        "/exports/{export_id}/file": {
            "parameters": [EXPORT_ID],
            "get": _op(
                "Organisers: download a ready export (HTTP ranges supported), or a redirect to a storage URL",
                {
                    "200": {
                        "description": "The zip",
                        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "302": {"description": "Redirect to a short-lived storage URL"},
                },
                errors=("401", "403", "404", "409"),
            ),
        },
    }


NULLABLE_INTEGER = {"type": ["integer", "null"]}
READ_SCHEMAS = {
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
    "Run": {
        "type": "object",
        "required": ["run_number", "lumisections"],
        "properties": {
            "run_number": {"type": "integer"},
            "fill_number": NULLABLE_INTEGER,
            "run_class": {"type": ["string", "null"]},
            "ls_count": NULLABLE_INTEGER,
            "delivered_lumi": NULLABLE_NUMBER,
            "recorded_lumi": NULLABLE_NUMBER,
            "lumisections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "number, luminosity, pileup, DCS bits (null when not imported), golden",
                    "properties": {"number": {"type": "integer"}},
                },
            },
        },
    },
    "Tasks": {
        "type": "object",
        "required": ["tasks"],
        "properties": {
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "reco": {"type": "string", "enum": ["express", "prompt", "rereco"]},
                        "dataset": {"type": ["string", "null"]},
                        "open": {"type": "boolean"},
                        "checklists": {"type": "array", "items": {"type": "string"}},
                        "double_certification": {"type": "boolean"},
                        "progress": {"type": "object", "additionalProperties": {"type": "integer"}},
                    },
                },
            }
        },
    },
    "Certification": {
        "type": "object",
        "required": ["id", "task_id", "run_number", "reco", "review_state"],
        "properties": {
            "id": {"type": "integer"},
            "task_id": {"type": "integer"},
            "run_number": {"type": "integer"},
            "reco": {"type": "string", "enum": ["express", "prompt", "rereco"]},
            **{c: {"type": "string", "enum": ["good", "bad", "excluded"]} for c in ("pixel", "strip", "tracking")},
            **{f"{c}_lowstat": {"type": "boolean"} for c in ("pixel", "strip", "tracking")},
            "trackermap": {"type": ["string", "null"]},
            "reference_run": NULLABLE_INTEGER,
            "checklist": {"type": ["object", "null"], "additionalProperties": {"type": "boolean"}},
            "problem_categories": {"type": ["array", "null"], "items": {"type": "string"}},
            "bad_reason": {"type": ["string", "null"]},
            "comment": {"type": ["string", "null"]},
            "bad_lumisections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "first": {"type": "integer"},
                        "last": {"type": "integer"},
                        "components": {"type": ["array", "null"], "items": {"type": "string"}},
                        "comment": {"type": ["string", "null"]},
                    },
                },
            },
            "review_state": {"type": "string"},
            "certifier": {"type": ["string", "null"]},
            "copy": {"type": "integer"},
        },
    },
    "ReviewResult": {
        "type": "object",
        "required": ["id", "review_state"],
        "properties": {"id": {"type": "integer"}, "review_state": {"type": "string"}},
    },
    "ReferenceRun": {
        "type": "object",
        "required": ["run_number", "reco"],
        "properties": {"run_number": {"type": "integer"}, "reco": {"type": "string"}},
    },
    "GoldenJSON": {
        "type": "object",
        "description": "run number (as a string) to sorted, merged, inclusive lumisection ranges",
        "additionalProperties": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        },
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
        "paths": _paths() | _certification_paths() | _transfer_paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS | READ_SCHEMAS | TRANSFER_SCHEMAS,
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


# Rendered on the server from the document itself, so the page needs no script or CDN and never drifts from it.
DOCS_PAGE = """{% extends "base.html" %}
{% block title %}API · DQM Playground{% endblock %}
{% macro schema(s) -%}
  {%- if s is none -%}
  {%- elif s["$ref"] -%}<a href="#schema-{{ s["$ref"].rsplit("/", 1)[1] }}">{{ s["$ref"].rsplit("/", 1)[1] }}</a>
  {%- else -%}<pre class="small bg-light p-2 mb-1">{{ s|tojson(indent=2) }}</pre>{%- endif -%}
{%- endmacro %}
{% block content %}
<h1 class="h3">{{ doc.info.title }} <span class="text-muted small">v{{ doc.info.version }}</span></h1>
<p>Base URL <code>{{ base }}</code>. {{ doc.info.description }}
  The machine-readable document: <a href="{{ base }}/openapi.json">openapi.json</a>.</p>
<ul class="list-unstyled small">
{% for path, item in doc.paths.items() %}{% for method, op in item.items() if method != "parameters" %}
  <li><a href="#{{ method }}-{{ path }}"><code>{{ method|upper }} {{ path }}</code></a></li>
{% endfor %}{% endfor %}
</ul>
{% for path, item in doc.paths.items() %}{% for method, op in item.items() if method != "parameters" %}
<section class="border-top pt-3 mt-3" id="{{ method }}-{{ path }}">
  <h2 class="h5"><span class="badge text-bg-secondary">{{ method|upper }}</span> <code>{{ path }}</code></h2>
  <p class="mb-2">{{ op.summary }}{% if op.security == [{}, {"bearer": []}] %}
    <span class="badge text-bg-light border">no token needed</span>{% endif %}</p>
  {% set params = (item.parameters or []) + (op.parameters or []) %}
  {% if params %}<p class="small mb-1">Parameters:
    {% for p in params %}<code>{{ p.name }}</code> ({{ p.in }}, {{ p.schema.type }}
    {%- if p.required %}, required{% endif %}){% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
  {% if op.requestBody %}{% for type, body in op.requestBody.content.items() %}
    <div class="small">Body <code>{{ type }}</code>: {{ schema(body.schema) }}</div>{% endfor %}{% endif %}
  <table class="table table-sm small mb-0"><tbody>
  {% for code, response in op.responses.items() %}
    {% set r = doc.components.responses[response["$ref"].rsplit("/", 1)[1]] if response["$ref"] else response %}
    <tr><td class="text-nowrap"><code>{{ code }}</code></td><td>{{ r.description }}</td>
      <td>{% for type, content in (r.content or {}).items() %}<code>{{ type }}</code>
        {{ schema(content.schema) }}{% endfor %}</td></tr>
  {% endfor %}
  </tbody></table>
</section>
{% endfor %}{% endfor %}
<h2 class="h4 mt-5">Schemas</h2>
{% for name, s in doc.components.schemas.items() %}
<section id="schema-{{ name }}"><h3 class="h6 mt-3">{{ name }}</h3>{{ schema(s) }}</section>
{% endfor %}
{% endblock %}"""


@bp.get("/docs")
def docs():
    """The OpenAPI document as a page people read: every route, its parameters, body, responses and errors."""
    return render_template_string(DOCS_PAGE, doc=document(), base="/api/v1")
