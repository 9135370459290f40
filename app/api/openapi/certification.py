"""The certification part of the OpenAPI document: runs, labelling tasks, certifications, reviews, golden JSON."""

from __future__ import annotations

from app.api.openapi.common import NULLABLE_INTEGER, NULLABLE_NUMBER, json_body, json_response, op, ref
from app.api.schemas import CertificationBody, CertificationChange, ReviewBody
from app.services.runs.run_registry import COMPONENTS as RR_COMPONENTS
from app.services.runs.run_registry import STATUSES as RR_STATUSES

# Luminosities are sent as stored: numbers in pb⁻¹; OMS's slightly negative noise is stored as 0.
LUMI = "luminosity %s, in pb⁻¹ (inverse picobarns); never negative, null when not imported"
TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}}
CERTIFICATION_ID = {"name": "certification_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SCHEMAS = {
    "Run": {
        "type": "object",
        "required": ["run_number", "lumisections"],
        "properties": {
            "run_number": {"type": "integer"},
            "fill_number": NULLABLE_INTEGER,
            "run_class": {"type": ["string", "null"]},
            "ls_count": NULLABLE_INTEGER,
            "delivered_lumi": NULLABLE_NUMBER | {"description": LUMI % "delivered by the LHC during the run"},
            "recorded_lumi": NULLABLE_NUMBER | {"description": LUMI % "recorded by CMS during the run"},
            "lumisections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "number, luminosity, pileup, DCS bits (null when not imported), golden",
                    "properties": {
                        "number": {"type": "integer"},
                        "delivered_lumi": NULLABLE_NUMBER | {"description": LUMI % "delivered in the lumisection"},
                        "recorded_lumi": NULLABLE_NUMBER | {"description": LUMI % "recorded in the lumisection"},
                    },
                },
            },
            "rr": {
                "type": "object",
                "description": "the Run Registry's lumisection ranges of the tracker's components (dataset "
                "online, else the first imported), present when imported with flask runs import --from-rr",
                "additionalProperties": False,
                "properties": {component: ref("RrRanges") for component in RR_COMPONENTS},
            },
        },
    },
    "RrRanges": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["first", "last", "status", "cause", "comment"],
            "properties": {
                "first": {"type": "integer", "minimum": 1},
                "last": {"type": "integer", "minimum": 1},
                "status": {"type": "string", "enum": list(RR_STATUSES)},
                "cause": {"type": "string"},
                "comment": {"type": "string"},
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
                        "origin": {"type": "string", "enum": ["manual", "suggested", "suggested_edited"]},
                        "source_id": NULLABLE_INTEGER,
                    },
                },
            },
            "blind": {"type": "boolean", "description": "the run was certified blind: no suggestion shown before"},
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


def paths() -> dict:
    return {
        "/runs/{run_number}": {
            "parameters": [{"name": "run_number", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": op(
                "A run's metadata and lumisections", {"200": json_response(ref("Run"))}, errors=("401", "403", "404")
            ),
        },
        "/tasks": {
            "get": op(
                "Labelling tasks with progress counts", {"200": json_response(ref("Tasks"))}, errors=("401", "403")
            )
        },
        "/tasks/{task_id}/certifications": {
            "parameters": [TASK_ID],
            "post": op(
                "Certify one run of the task",
                {"201": json_response(ref("Certification"), "Created")},
                errors=("400", "401", "403", "404", "409"),
                requestBody=json_body(CertificationBody),
            ),
        },
        "/certifications/{certification_id}": {
            "parameters": [CERTIFICATION_ID],
            "get": op("One certification", {"200": json_response(ref("Certification"))}, errors=("401", "403", "404")),
            "put": op(
                "Change a certification (its certifier or a shift leader); it goes back to review",
                {"200": json_response(ref("Certification"))},
                errors=("400", "401", "403", "404"),
                requestBody=json_body(CertificationChange),
            ),
        },
        "/certifications/{certification_id}/review": {
            "parameters": [CERTIFICATION_ID],
            "post": op(
                "Approve or reject a certification (shift leaders)",
                {"200": json_response(ref("ReviewResult"))},
                errors=("400", "401", "403", "404"),
                requestBody=json_body(ReviewBody),
            ),
        },
        "/certifications/{certification_id}/reference": {
            "parameters": [CERTIFICATION_ID],
            "post": op(
                "Make the certified run a reference run (shift leaders)",
                {"201": json_response(ref("ReferenceRun"))},
                errors=("400", "401", "403", "404"),
            ),
        },
        "/tasks/{task_id}/golden.json": {
            "parameters": [TASK_ID],
            "get": op(
                "Golden JSON of the task's approved good lumisections",
                {"200": json_response(ref("GoldenJSON"))},
                errors=("401", "403", "404"),
            ),
        },
    }
