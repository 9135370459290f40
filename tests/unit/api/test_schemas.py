"""Every JSON body of the API is read by its schema first: a field of the wrong type or beyond what the database
holds is a 400 naming the field that changes nothing, never a 500; the bodies of CONTRACT.md still work."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.api import schemas
from app.extensions import db
from app.models import AuditEntry, Certification, Competition, Participation, Role, Upload, User
from app.models.types import utcnow
from app.services.certification import tasks, workflow
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.runs.importer import import_file
from tests.helpers import bearer, make_token, make_user, write_bundle

RUN, OTHER_RUN, REFERENCE = 315259, 315264, 315257
SLUG = "test-comp"


def contract_body(**changes) -> dict:
    """A certification body as CONTRACT.md writes it."""
    body = {
        "run_number": RUN,
        "reco": "express",
        "pixel": "good",
        "strip": "good",
        "tracking": "bad",
        "pixel_lowstat": False,
        "strip_lowstat": False,
        "tracking_lowstat": False,
        "bad_lumisections": [{"first": 120, "last": 135, "components": ["tracking"]}],
        "reference_run": REFERENCE,
        "trackermap": "exists",
        "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
        "comment": "tracking lost in 120-135",
    }
    return body | changes


@pytest.fixture
def desk(app, tmp_path):
    """Runs of 2018 and a task over them, run 315257 a reference run and run 315264 certified (pending review);
    tokens of a shifter and a shift leader."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
        sam, lea = make_user("sam", Role.SHIFTER), make_user("lea", Role.SHIFT_LEADER)
        task = tasks.create_task("express-2018", "express")
        good = {c: "good" for c in ("pixel", "strip", "tracking")}
        reference = workflow.certify(
            task, sam, contract_body(run_number=REFERENCE, reference_run=None, bad_lumisections=[], **good)
        )
        workflow.review(reference, lea, "approve")
        workflow.promote_reference(reference, lea)
        pending = workflow.certify(task, sam, contract_body(run_number=OTHER_RUN, reference_run=None))
        return {
            "task": task.id,
            "pending": pending.id,
            "sam": make_token(sam),
            "lea": make_token(lea),
            "audit": db.session.execute(db.select(db.func.count()).select_from(AuditEntry)).scalar_one(),
        }


@pytest.fixture
def rita(app, tmp_path) -> str:
    """A competition, and the token of a researcher who has not joined it."""
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_bundle(folder)
        return make_token(make_user("rita"))


def call(client, token: str, method: str, path: str, headers: dict | None = None, **kwargs):
    return client.open(f"/api/v1{path}", method=method, headers=bearer(token) | (headers or {}), **kwargs)


def refused_naming(response, *words: str) -> str:
    """The message of a 400, checked to hold the words (the field named, what it must be)."""
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input"
    for word in words:
        assert word in error["message"], error["message"]
    return error["message"]


def nothing_changed(app, desk) -> None:
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(AuditEntry)).scalar_one() == desk["audit"]
        assert db.session.execute(db.select(Certification).where(Certification.run_number == RUN)).first() is None
        pending = db.session.get(Certification, desk["pending"])
        assert (pending.review_state.value, pending.comment) == ("pending", "tracking lost in 120-135")


WRONG_FIELDS = [
    ({"checklist": []}, "checklist must be an object, not a list"),
    ({"checklist": {"general": "yes"}}, "checklist.general must be true or false"),
    ({"problem_categories": [["hv_off"]]}, "problem_categories[0] must be a string"),
    ({"bad_lumisections": 5}, "bad_lumisections must be a list, not 5"),
    ({"bad_lumisections": [[120, 135]]}, "bad_lumisections[0] must be an object"),
    ({"bad_lumisections": [{"first": 2**70, "last": 135}]}, "bad_lumisections[0].first must be at most 2147483647"),
    ({"bad_lumisections": [{"first": 120, "last": 135, "comment": 7}]}, "bad_lumisections[0].comment must be a str"),
    ({"reference_run": [REFERENCE]}, "reference_run must be a whole number, not a list"),
    ({"reference_run": 2**70}, f"reference_run must be at most {2**63 - 1}, not {2**70}"),
    ({"run_number": 2**70}, f"run_number must be at most {2**63 - 1}"),
    ({"run_number": True}, "run_number must be a whole number, not true"),
    ({"run_number": "315259"}, 'run_number must be a whole number, not "315259"'),
    ({"run_number": 315259.0}, "run_number must be a whole number, not 315259.0"),
    ({"pixel_lowstat": "no"}, 'pixel_lowstat must be true or false, not "no"'),
    ({"pixel": None}, "pixel must be a string, not null"),
    ({"comment": {"text": "why"}}, "comment must be a string, not an object"),
    ({"bad_reason": 3}, "bad_reason must be a string, not 3"),
]


@pytest.mark.databases("sqlite", "postgresql")
@pytest.mark.parametrize(("changes", "message"), WRONG_FIELDS)
def test_a_certification_field_of_the_wrong_type_or_size_is_refused_by_name(app, client, desk, changes, message):
    response = call(client, desk["sam"], "POST", f"/tasks/{desk['task']}/certifications", json=contract_body(**changes))
    refused_naming(response, message)
    nothing_changed(app, desk)


def test_every_field_that_does_not_fit_is_named_at_once(app, client, desk):
    body = contract_body(checklist=[], reference_run="315257")
    del body["pixel"]
    response = call(client, desk["sam"], "POST", f"/tasks/{desk['task']}/certifications", json=body)
    refused_naming(response, "pixel is missing", "reference_run must be", "checklist must be an object")


@pytest.mark.parametrize(
    ("changes", "message"), [case for case in WRONG_FIELDS if "run_number" not in json.dumps(case[0])]
)
def test_a_change_of_a_certification_is_typed_as_strictly(app, client, desk, changes, message):
    response = call(client, desk["sam"], "PUT", f"/certifications/{desk['pending']}", json=contract_body(**changes))
    refused_naming(response, message)
    nothing_changed(app, desk)


BODIES_THAT_ARE_NOT_OBJECTS = [
    pytest.param({"data": "[null, null]"}, id="a list"),
    pytest.param({"data": '"approve"'}, id="a string"),
    pytest.param({"data": "{'decision': 'approve'}"}, id="not JSON"),
    pytest.param({}, id="no body"),
]


@pytest.mark.parametrize("body", BODIES_THAT_ARE_NOT_OBJECTS)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/tasks/{task}/certifications"),
        ("PUT", "/certifications/{pending}"),
        ("POST", "/certifications/{pending}/review"),
    ],
)
def test_a_certification_body_that_is_not_a_json_object_is_refused(app, client, desk, method, path, body):
    headers = {"Content-Type": "application/json"} if body else {}
    response = call(client, desk["lea"], method, path.format(**desk), headers=headers, **body)
    refused_naming(response, "The body must be a JSON object")
    nothing_changed(app, desk)


@pytest.mark.parametrize("body", BODIES_THAT_ARE_NOT_OBJECTS)
@pytest.mark.parametrize("path", [f"/competitions/{SLUG}/join", f"/competitions/{SLUG}/uploads"])
def test_a_competition_body_that_is_not_a_json_object_is_refused(app, client, rita, path, body):
    headers = {"Content-Type": "application/json"} if body else {}
    refused_naming(call(client, rita, "POST", path, headers=headers, **body), "The body must be a JSON object")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"decision": 5}, "decision must be a string, not 5"),
        ({"decision": "reject", "comment": ["fix strip"]}, "comment must be a string, not a list"),
        ({"comment": "fine"}, "decision is missing"),
        ({"decision": "maybe"}, "decision must be approve or reject"),  # the service's rule, with its message
    ],
)
def test_a_review_body_that_does_not_fit_is_refused_by_name(app, client, desk, body, message):
    response = call(client, desk["lea"], "POST", f"/certifications/{desk['pending']}/review", json=body)
    refused_naming(response, message)
    nothing_changed(app, desk)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"accept_rules": "yes"}, 'accept_rules must be true or false, not "yes"'),
        ({"accept_rules": 1}, "accept_rules must be true or false, not 1"),
        ({}, "accept_rules is missing"),
        ({"accept_rules": False}, "Joining means accepting the rules"),
    ],
)
def test_joining_needs_a_boolean_accept_rules(app, client, rita, body, message):
    refused_naming(call(client, rita, "POST", f"/competitions/{SLUG}/join", json=body), message)
    with app.app_context():
        assert db.session.execute(db.select(Participation)).first() is None


ANNOUNCED = {"file_name": "p.csv", "size": 10}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"file_name": 5}, "file_name must be a string, not 5"),
        ({"size": 2**70}, f"size must be at most {2**63 - 1}"),
        ({"size": True}, "size must be a whole number, not true"),
        ({"size": 0}, "size must be at least 1, not 0"),
        ({"description": ["x"]}, "description must be a string, not a list"),
        ({"sha256": 12}, "sha256 must be a string, not 12"),
        ({"sha256": "abc"}, 'sha256 must match ^[0-9a-fA-F]{64}$, not "abc"'),
        ({"parts": "all"}, 'parts must be a list, not "all"'),
        ({"parts": [{"size": 10}]}, "parts[0].crc32 is missing"),
        ({"parts": [{"size": 2**64, "crc32": "AAAAAA=="}]}, "parts[0].size must be at most"),
    ],
)
def test_an_upload_announcement_that_does_not_fit_is_refused_by_name(client, rita, changes, message):
    response = call(client, rita, "POST", f"/competitions/{SLUG}/uploads", json=ANNOUNCED | changes)
    refused_naming(response, message, "Checksums are optional")


@pytest.fixture
def upload_id(app, rita) -> str:
    """An upload of rita's awaiting its confirmation (the file store is not involved before the body is read)."""
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        user = db.session.execute(db.select(User).where(User.username == "rita")).scalar_one()
        participation = submissions.join(competition, user)
        upload = Upload(
            id="a" * 32,
            competition_id=competition.id,
            participation_id=participation.id,
            user_id=user.id,
            file_name="p.csv",
            size=10,
            storage_key="uploads/p.csv",
            expires_at=utcnow() + timedelta(hours=1),
        )
        db.session.add(upload)
        db.session.commit()
        return upload.id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"size": "10", "sha256": "0" * 64}, 'size must be a whole number, not "10"'),
        ({"size": 2**70, "sha256": "0" * 64}, f"size must be at most {2**63 - 1}"),
        ({"size": 10, "sha256": 5}, "sha256 must be a string, not 5"),
        ({"size": 10}, "sha256 is missing"),
    ],
)
def test_an_upload_confirmation_that_does_not_fit_is_refused_and_the_upload_stays(
    app, client, rita, upload_id, body, message
):
    response = call(client, rita, "POST", f"/uploads/{upload_id}/complete", json=body)
    refused_naming(response, message, "Confirm the upload as")
    with app.app_context():
        assert db.session.get(Upload, upload_id).state.value == "pending"


def test_the_bodies_of_the_contract_are_accepted(app, client, desk, rita):
    created = call(client, desk["sam"], "POST", f"/tasks/{desk['task']}/certifications", json=contract_body())
    assert created.status_code == 201, created.get_json()
    snapshot = created.get_json()
    assert (snapshot["reference_run"], snapshot["tracking"]) == (REFERENCE, "bad")
    assert snapshot["bad_lumisections"][0] | {"comment": ""} == {
        "first": 120,
        "last": 135,
        "components": ["tracking"],
        "comment": "",
        "origin": "manual",
        "source_id": None,
    }
    review = {"decision": "approve", "comment": "..."}
    approved = call(client, desk["lea"], "POST", f"/certifications/{snapshot['id']}/review", json=review)
    assert approved.get_json() == {"id": snapshot["id"], "review_state": "approved"}
    joined = call(client, rita, "POST", f"/competitions/{SLUG}/join", json={"accept_rules": True})
    assert joined.get_json() == {"joined": True, "competition": SLUG}
    changed = call(client, desk["sam"], "PUT", f"/certifications/{snapshot['id']}", json=contract_body(tracking="good"))
    assert changed.status_code == 200 and changed.get_json()["review_state"] == "pending"


def test_each_json_body_of_the_document_is_a_schema_the_routes_read(client):
    """The OpenAPI document describes every JSON body by the very class its route parses it with."""
    document = client.get("/api/v1/openapi.json").get_json()
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method != "parameters" and "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert sorted(bodies) == sorted(schema.__name__ for schema in schemas.SCHEMAS)
    for schema in schemas.SCHEMAS:
        assert document["components"]["schemas"][schema.__name__]["properties"].keys() == schema.model_fields.keys()
