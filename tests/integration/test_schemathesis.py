"""The OpenAPI document: valid, complete, rendered as a page, and true enough that schemathesis finds no 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from app.models import Role
from app.services.bundles import import_bundle
from tests import services
from tests.helpers import bearer, make_token, make_user, write_bundle

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def test_every_operation_has_response_schemas_and_its_error_codes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        success = {code: r for code, r in operation["responses"].items() if code.startswith(("2", "3"))}
        assert success, f"{where} documents no success response"
        for code, response in success.items():
            if code in ("204", "302"):
                continue
            assert response.get("content"), f"{where} {code} has no content schema"
            for content in response["content"].values():
                assert content["schema"] not in ({}, {"type": "object"}), f"{where} {code} says only 'object'"
        parameters = document["paths"][path].get("parameters", []) + operation.get("parameters", [])
        needs_token = operation.get("security") != [{}, {"bearer": []}]
        if needs_token:
            assert "401" in operation["responses"], f"{where} needs a token but does not document 401"
        if any(p["in"] == "path" for p in parameters):
            assert "404" in operation["responses"], f"{where} takes an id but does not document 404"
        if "requestBody" in operation:
            assert "400" in operation["responses"], f"{where} takes a body but does not document 400"


def test_every_documented_route_exists(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    routes = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}")
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    for path, method, _ in _operations(document):
        assert (path, method) in routes, f"{method.upper()} {path} is documented but not served"


def test_docs_page_renders_every_route_without_scripts(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_json()
    for path, method, _ in _operations(document):
        assert f'id="{method}-{path}"' in html
    assert "cdn" not in html.lower()


@pytest.mark.databases("sqlite", "postgresql")
def test_schemathesis_finds_no_server_error(app, tmp_path):
    """A bounded property-based run over every operation, as an admin (every route's deepest path)."""
    if not SCHEMATHESIS.exists():
        pytest.skip("schemathesis is not installed (pip install -r requirements-dev.txt)")
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_bundle(folder)
        token = make_token(make_user("ada", Role.ADMIN))
    app.test_client().post("/api/v1/competitions/test-comp/join", headers=bearer(token), json={"accept_rules": True})
    url, stop = services.serve(app)
    report = tmp_path / "schemathesis.json"
    try:
        result = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                f"{url}/api/v1/openapi.json",
                "--url",
                f"{url}/api/v1",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"),
                "--phases",
                "examples,coverage,fuzzing",
                "--seed",
                "7",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--request-timeout",
                "30",
                "--exclude-path",
                "/token",  # revoking the run's own token would leave nothing else to test
                "-H",
                f"Authorization: Bearer {token}",
                "--no-color",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    finally:
        stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert report.exists() and json.loads(report.read_text())
