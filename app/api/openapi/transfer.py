"""The transfer part of the OpenAPI document: direct uploads, confirmations, bulk exports."""

from __future__ import annotations

from app.api.openapi.common import NULLABLE_TIME, SLUG, json_body, json_response, op, ref
from app.api.schemas import ConfirmationBody, UploadBody

UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
SCHEMAS = {
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
            "parts": {"type": "array", "items": ref("UploadPart")},
            "complete_url": {"type": "string", "description": "where to POST the confirmation"},
            "cancel_url": {"type": "string", "description": "where to DELETE the upload if it cannot be finished"},
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


def paths() -> dict:
    return {
        "/competitions/{slug}/uploads": {
            "parameters": [SLUG],
            "post": op(
                "Start a direct upload to the file store (S3 backends): announce the file, get presigned URLs. "
                "PUT each part's bytes to its URL, then confirm. A filesystem backend answers 409 "
                "`direct_uploads_unavailable`: post the file to /competitions/{slug}/submissions instead.",
                {"201": json_response(ref("Upload"), "Presigned URLs, valid until expires_at")},
                errors=("400", "401", "403", "404", "409", "413", "429", "503"),
                requestBody=json_body(UploadBody),
            ),
        },
        "/uploads/{upload_id}/complete": {
            "parameters": [UPLOAD_ID],
            "post": op(
                "Confirm a direct upload: the server checks the stored file's size and sha256, then queues it "
                "as a submission (charging the quota). A mismatch deletes the file: 400, nothing is left.",
                {"202": json_response(ref("Queued"), "Queued")},
                errors=("400", "401", "403", "404", "409", "429", "503"),
                requestBody=json_body(ConfirmationBody),
            ),
        },
        "/docs": {
            "get": op(
                "This document as a readable page",
                {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
                public=True,
            )
        },
        "/uploads/{upload_id}": {
            "parameters": [UPLOAD_ID],
            "delete": op(
                "Cancel an unconfirmed upload and remove what reached the store",
                {"204": {"description": "Cancelled"}},
                errors=("401", "404", "409"),
            ),
        },
        "/competitions/{slug}/exports": {
            "parameters": [SLUG],
            "post": op(
                "Organisers: start a job building one zip of every submission file and scores.csv "
                "(or get the export already building)",
                {"202": json_response(ref("Export"), "Building")},
                errors=("401", "403", "404"),
            ),
        },
        "/exports/{export_id}": {
            "parameters": [EXPORT_ID],
            "get": op(
                "Organisers: where an export stands",
                {"200": json_response(ref("Export"))},
                errors=("401", "403", "404"),
            ),
        },
        "/exports/{export_id}/file": {
            "parameters": [EXPORT_ID],
            "get": op(
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
