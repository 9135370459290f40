"""The OpenAPI document: valid, complete, rendered as a page, and true enough that schemathesis finds no 500."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from app.extensions import db
from app.models import Role
from app.services.certification import tasks, workflow
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.competitions.exports import request_export
from app.services.queue import get_queue
from app.services.runs.importer import import_file
from app.services.suggestions import sources
from tests import services
from tests.helpers import make_token, make_user, predictions_csv, write_bundle

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
RUN = 315259
CERTIFIED = {
    "pixel": "good",
    "strip": "good",
    "tracking": "good",
    "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
}


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
        path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<path:", "{")
        path = path.replace("<", "{").replace(">", "}")
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


@pytest.fixture
def fuzzing_desk(app, tmp_path) -> dict:
    """The ids of real things for every path parameter, and the token of an admin (who holds every role, so
    that each call goes past its role checks): a competition the admin joined with a submission and an export,
    a task over imported runs with a source of suggestions, and a certification of one of them."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
        task = tasks.create_task("fuzzed", "express")
        # A live competition on the task, so that live posts and the live board are reached too.
        live = {"live": True, "task": task.id, "live_daily_limit": 1000}
        folder, ids, *_ = write_bundle(tmp_path / "bundle", spec=live)
        competition = import_bundle(folder)
        get_queue().join()  # its first pending.csv
        admin = make_user("ada", Role.ADMIN)
        token = make_token(admin)
        submissions.join(competition, admin)
        db.session.commit()
        predictions = io.BytesIO(predictions_csv(ids, [0.5] * len(ids)))
        submission = submissions.submit(competition, admin, predictions, file_name="p.csv")
        export = request_export(competition, admin)
        certified = workflow.certify(task, admin, CERTIFIED | {"run_number": RUN})
        scores = "run,lumisection,score\n" + "".join(f"{RUN},{n},{n / 172}\n" for n in range(1, 173))
        source = sources.import_upload(task, io.BytesIO(scores.encode()), name="fuzzed model", user=admin)
        return {
            "token": token,
            "slug": competition.slug,
            "name": "train.csv",
            "submission_id": submission.id,
            "export_id": export.id,
            "task_id": task.id,
            "run_number": RUN,
            "certification_id": certified.id,
            "source_id": source.id,
        }


@pytest.mark.databases("sqlite", "postgresql")
def test_schemathesis_finds_no_server_error(app, tmp_path, fuzzing_desk):
    """A bounded, seeded property-based run over every operation: generated bodies, valid and not (wrong types,
    huge numbers, NUL bytes), on real data, so that each body reaches its route's checks. No answer is a 5xx."""
    if not SCHEMATHESIS.exists():
        pytest.skip("schemathesis is not installed (pip install -r requirements-dev.txt)")
    token = fuzzing_desk.pop("token")
    config = tmp_path / "schemathesis.toml"
    config.write_text("[parameters]\n" + "".join(f'"path.{k}" = {json.dumps(v)}\n' for k, v in fuzzing_desk.items()))
    url, stop = services.serve(app)
    report = tmp_path / "schemathesis.json"
    try:
        result = subprocess.run(
            [
                SCHEMATHESIS,
                "--config-file",
                str(config),
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
