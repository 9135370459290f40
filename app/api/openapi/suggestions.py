"""The loop's part of the OpenAPI document: a task's sources of suggestions, one run's suggestions, the next run."""

from __future__ import annotations

from app.api.openapi.common import (
    BOOLEAN,
    INTEGER,
    NULLABLE_NUMBER,
    NULLABLE_TIME,
    NUMBER,
    STRING,
    json_response,
    op,
    ref,
)
from app.api.schemas import AttachSubmissionBody, SourceChange

TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": INTEGER}
SOURCE_ID = {"name": "source_id", "in": "path", "required": True, "schema": INTEGER}
RUN_NUMBER = {"name": "run_number", "in": "path", "required": True, "schema": INTEGER}
PAIR = {"type": "array", "items": NUMBER, "minItems": 2, "maxItems": 2}
SCHEMAS = {
    "SourceCreated": {
        "type": "object",
        "required": ["source_id", "rows"],
        "properties": {"source_id": INTEGER, "rows": {"type": "integer", "description": "scores stored"}},
    },
    "Model": {
        "type": "object",
        "required": ["id", "name", "version", "kind", "active", "threshold", "created_at"],
        "properties": {
            "id": INTEGER,
            "name": STRING,
            "version": STRING,
            "kind": {"type": "string", "enum": ["upload", "submission", "live", "model"]},
            "active": BOOLEAN,
            "threshold": {"type": "number", "minimum": 0, "maximum": 1},
            "created_at": NULLABLE_TIME,
            "rows": INTEGER,
            "live": {
                "type": ["object", "null"],
                "description": "scores on lumisections of runs approved after the source was created; null while "
                "there are none",
                "properties": {
                    "runs": INTEGER,
                    "lumisections": INTEGER,
                    "roc_auc": NULLABLE_NUMBER,
                    "tpr_at_fpr": NULLABLE_NUMBER,
                    "fpr": NUMBER,
                    "at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
    "Models": {
        "type": "object",
        "required": ["models"],
        "properties": {"models": {"type": "array", "items": ref("Model")}},
    },
    "RunSuggestions": {
        "type": "object",
        "required": ["blind", "sources"],
        "properties": {
            "blind": {"type": "boolean", "description": "the run is certified blind in the task"},
            "sources": {
                "type": "array",
                "description": "the active sources; empty on a blind run until the caller certified it",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "threshold", "scores", "suggested_ranges"],
                    "properties": {
                        "id": INTEGER,
                        "name": STRING,
                        "version": STRING,
                        "threshold": NUMBER,
                        "scores": {"type": "array", "items": PAIR, "description": "[lumisection, score] pairs"},
                        "suggested_ranges": {
                            "type": "array",
                            "items": {"type": "array", "items": INTEGER, "minItems": 2, "maxItems": 2},
                        },
                    },
                },
            },
        },
    },
    "NextRun": {
        "type": "object",
        "required": ["run_number"],
        "properties": {"run_number": INTEGER},
    },
}
SCORES_FORM = {
    "type": "object",
    "required": ["file", "name"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV run,lumisection,score, scores in [0, 1]"},
        "name": {"type": "string", "description": "the model's name, 1 to 200 characters"},
        "version": STRING,
        "threshold": {"type": "string", "description": "a number in [0, 1] (default 0.5)"},
    },
}


def paths() -> dict:
    return {
        "/tasks/{task_id}/suggestions": {
            "parameters": [TASK_ID],
            "post": op(
                "Add a source of suggestions (organisers and shift leaders): an external model's scores, or a "
                "scored submission whose ids are {run}_{lumisection}; all or nothing",
                {"201": json_response(ref("SourceCreated"), "Created")},
                errors=("400", "401", "403", "404", "409", "413", "503"),
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {"schema": SCORES_FORM},
                        "application/json": {"schema": ref(AttachSubmissionBody.__name__)},
                    },
                },
            ),
        },
        "/tasks/{task_id}/models": {
            "parameters": [TASK_ID],
            "get": op(
                "The task's sources with their live measures (organisers and shift leaders)",
                {"200": json_response(ref("Models"))},
                errors=("401", "403", "404"),
            ),
        },
        "/tasks/{task_id}/models/{source_id}": {
            "parameters": [TASK_ID, SOURCE_ID],
            "post": op(
                "Activate or deactivate a source, or set its threshold (organisers and shift leaders)",
                {"200": json_response(ref("Model"))},
                errors=("400", "401", "403", "404"),
                requestBody={"required": True, "content": {"application/json": {"schema": ref(SourceChange.__name__)}}},
            ),
        },
        "/tasks/{task_id}/runs/{run_number}/suggestions": {
            "parameters": [TASK_ID, RUN_NUMBER],
            "get": op(
                "One run's suggestions from the active sources; none on a blind run until the caller certified it",
                {"200": json_response(ref("RunSuggestions"))},
                errors=("401", "403", "404"),
            ),
        },
        "/tasks/{task_id}/next": {
            "parameters": [TASK_ID],
            "get": op(
                "The next run for the caller in the task's order, claimed for them (shifters, shift leaders)",
                {"200": json_response(ref("NextRun"))},
                errors=("401", "403", "404"),
            ),
        },
    }
