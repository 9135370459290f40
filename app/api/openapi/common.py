"""Pieces every part of the OpenAPI document is written with: references, responses, errors, parameters."""

from __future__ import annotations

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
REF_TEMPLATE = "#/components/schemas/{model}"


def ref(name: str) -> dict:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def json_response(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_responses(*codes: str) -> dict:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


def op(summary: str, responses: dict, *, errors: tuple[str, ...] = (), public: bool = False, **extra) -> dict:
    operation = {"summary": summary, "responses": responses | error_responses(*errors), **extra}
    if public:
        operation["security"] = [{}, {"bearer": []}]
    return operation


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
SUBMISSION_ID = {"name": "submission_id", "in": "path", "required": True, "schema": {"type": "integer"}}
INTEGER, NUMBER, STRING, BOOLEAN = ({"type": t} for t in ("integer", "number", "string", "boolean"))
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_INTEGER = {"type": ["integer", "null"]}


def json_body(schema: type) -> dict:
    """A required JSON request body read by that class of app.api.schemas (which the document holds by name)."""
    return {"required": True, "content": {"application/json": {"schema": ref(schema.__name__)}}}


def file_form(**fields: dict) -> dict:
    """A multipart form body: a required binary ``file`` (its schema extended by ``fields["file"]``) and the
    other named fields."""
    file = {"type": "string", "format": "binary", **fields.pop("file", {})}
    schema = {"type": "object", "required": ["file"], "properties": {"file": file, **fields}}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
