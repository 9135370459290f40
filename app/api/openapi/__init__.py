"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json and as a page at /api/v1/docs.

Each area writes its own schemas and paths; this module puts them together.
"""

from __future__ import annotations

from flask import jsonify, render_template

from app.api import bp, schemas
from app.api.openapi import certification, competitions, live, monitoring_elements, suggestions, teams, transfer
from app.api.openapi.common import ERROR_STATUSES, REF_TEMPLATE, ref

AREAS = (competitions, certification, monitoring_elements, suggestions, transfer, live, teams)


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
        "paths": {path: item for area in AREAS for path, item in area.paths().items()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {name: schema for area in AREAS for name, schema in area.SCHEMAS.items()}
            | schemas.openapi_schemas(REF_TEMPLATE),
            "responses": {
                f"E{code}": {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
                for code, text in ERROR_STATUSES.items()
            },
        },
    }


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3 document."""
    return jsonify(document())


@bp.get("/docs")
def docs():
    """The OpenAPI document as a page people read: every route, its parameters, body, responses and errors."""
    return render_template("api/docs.html", doc=document(), base="/api/v1")
