"""The competition loop through the API, embedded mode: join, files, submit, score, quota, leaderboards."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from app.extensions import db
from app.models import Competition, Role, Submission
from app.models.types import utcnow
from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle

SLUG = "test-comp"


@pytest.fixture
def setup(app, tmp_path):
    """A competition whose solution marks each row Public or Private, a researcher and an organiser."""
    folder, ids, labels, x = write_bundle(tmp_path / "bundle", solution_usage=True)
    with app.app_context():
        from app.services.competitions.bundles import import_bundle

        import_bundle(folder)
        tokens = {
            "rita": make_token(make_user("rita")),
            "ravi": make_token(make_user("ravi")),
            "olga": make_token(make_user("olga", Role.ORGANISER)),
        }
    return {"ids": ids, "labels": labels, "x": x, "tokens": tokens, "folder": folder}


def api(client, method, path, token=None, headers=None, **kw):
    headers = (bearer(token) if token else {}) | (headers or {})
    return client.open(f"/api/v1{path}", method=method, headers=headers, **kw)


def join(client, token):
    assert api(client, "POST", f"/competitions/{SLUG}/join", token, json={"accept_rules": True}).status_code == 200


def submit(client, token, content: bytes, name="pred.csv"):
    return api(
        client,
        "POST",
        f"/competitions/{SLUG}/submissions",
        token,
        data={"file": (io.BytesIO(content), name), "description": "test"},
    )


def wait_scored(app, client, token, submission_id):
    app.extensions["job_queue"].join()
    return api(client, "GET", f"/submissions/{submission_id}", token).get_json()


def test_list_and_details_are_public_and_show_quota_to_the_caller(client, setup):
    listed = api(client, "GET", "/competitions").get_json()["competitions"]
    assert [c["slug"] for c in listed] == [SLUG] and listed[0]["phase"] == "open"
    anonymous = api(client, "GET", f"/competitions/{SLUG}").get_json()
    assert anonymous["quota"] is None and anonymous["target_column"] == "label"
    mine = api(client, "GET", f"/competitions/{SLUG}", setup["tokens"]["rita"]).get_json()
    assert mine["joined"] is False and mine["quota"]["remaining_today"] == 5


def test_joining_needs_the_rules_accepted(client, setup):
    token = setup["tokens"]["rita"]
    refused = api(client, "POST", f"/competitions/{SLUG}/join", token, json={})
    assert refused.status_code == 400 and "accept_rules" in refused.get_json()["error"]["message"]
    assert api(client, "GET", f"/competitions/{SLUG}/files", token).status_code == 403
    assert submit(client, token, b"id,label\n").status_code == 403
    join(client, token)
    files = api(client, "GET", f"/competitions/{SLUG}/files", token).get_json()["files"]
    assert [f["name"] for f in files] == ["train.csv", "test.csv", "sample_submission.csv"]


def test_public_file_downloads_with_its_sha256(client, setup):
    token = setup["tokens"]["rita"]
    join(client, token)
    response = api(client, "GET", f"/competitions/{SLUG}/files/test.csv", token)
    data = response.get_data()
    response.close()  # a streamed file stays open until the response is closed
    assert response.status_code == 200
    assert data == (setup["folder"] / "test.csv").read_bytes()
    listed = {
        f["name"]: f["sha256"] for f in api(client, "GET", f"/competitions/{SLUG}/files", token).get_json()["files"]
    }
    assert response.headers["X-Content-SHA256"] == listed["test.csv"]
    ranged = api(client, "GET", f"/competitions/{SLUG}/files/test.csv", token, headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.get_data() == data[:10]
    ranged.close()


def test_submission_is_scored_exactly_and_private_score_stays_hidden(app, client, setup):
    token = setup["tokens"]["rita"]
    join(client, token)
    accepted = submit(client, token, predictions_csv(setup["ids"], setup["x"]))
    assert accepted.status_code == 202 and accepted.get_json()["status"] == "queued"
    body = wait_scored(app, client, token, accepted.get_json()["id"])
    assert body["status"] == "scored", body
    public = np.arange(len(setup["ids"])) % 2 == 0
    expected = roc_auc_score(setup["labels"][public], setup["x"][public])
    assert body["public_score"] == pytest.approx(expected, rel=1e-9)
    assert body["private_score"] is None and body["n_private"] is None
    organiser = api(client, "GET", f"/submissions/{body['id']}", setup["tokens"]["olga"]).get_json()
    expected_private = roc_auc_score(setup["labels"][~public], setup["x"][~public])
    assert organiser["private_score"] == pytest.approx(expected_private, rel=1e-9)
    assert organiser["scorer"]["name"] == "roc_auc" and organiser["solution_sha256"]


def test_bad_submission_fails_with_the_scorers_message_and_costs_nothing(app, client, setup):
    token = setup["tokens"]["rita"]
    join(client, token)
    duplicated = predictions_csv([setup["ids"][0]] * 2 + setup["ids"][2:], np.zeros(len(setup["ids"])))
    body = wait_scored(app, client, token, submit(client, token, duplicated).get_json()["id"])
    assert body["status"] == "failed" and setup["ids"][0] in body["error"] and body["counted"] is False
    quota = api(client, "GET", f"/competitions/{SLUG}", token).get_json()["quota"]
    assert quota["remaining_today"] == 5


def test_quota_refuses_the_sixth_with_retry_after(app, client, setup):
    token = setup["tokens"]["rita"]
    join(client, token)
    content = predictions_csv(setup["ids"], setup["x"])
    assert [submit(client, token, content).status_code for _ in range(5)] == [202] * 5
    refused = submit(client, token, content)
    assert refused.status_code == 429
    assert "next slot opens at" in refused.get_json()["error"]["message"]
    quota = api(client, "GET", f"/competitions/{SLUG}", token).get_json()["quota"]
    assert quota["remaining_today"] == 0 and quota["next_slot_at"].endswith("T00:00:00+00:00")
    assert 0 < int(refused.headers["Retry-After"]) <= 86400
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Submission.id))).scalar() == 5


@pytest.mark.parametrize(("opens", "closes", "message"), [(1, None, "opens at"), (None, -1, "closed at")])
def test_submissions_refused_outside_the_dates(app, client, setup, opens, closes, message):
    token = setup["tokens"]["rita"]
    join(client, token)
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        competition.opens_at = utcnow() + timedelta(days=opens) if opens else None
        competition.closes_at = utcnow() + timedelta(days=closes) if closes else None
        db.session.commit()
    refused = submit(client, token, predictions_csv(setup["ids"], setup["x"]))
    assert refused.status_code == 403 and message in refused.get_json()["error"]["message"]


def test_too_large_upload_gets_413_and_leaves_nothing(app, client, setup):
    token = setup["tokens"]["rita"]
    join(client, token)
    app.config["MAX_CONTENT_LENGTH"] = 2000
    refused = submit(client, token, predictions_csv(setup["ids"], setup["x"]))
    assert refused.status_code == 413 and refused.get_json()["error"]["code"] == "too_large"
    with app.app_context():
        assert db.session.execute(db.select(Submission)).first() is None
        from app.services.storage import get_storage

        assert not (get_storage().root / "submissions").exists()


def test_other_participants_submissions_do_not_exist_for_the_caller(app, client, setup):
    join(client, setup["tokens"]["rita"])
    submission_id = submit(client, setup["tokens"]["rita"], predictions_csv(setup["ids"], setup["x"])).get_json()["id"]
    assert api(client, "GET", f"/submissions/{submission_id}", setup["tokens"]["ravi"]).status_code == 404
    assert api(client, "POST", f"/submissions/{submission_id}/select", setup["tokens"]["ravi"]).status_code == 404


def _score_two(app, client, setup):
    for name, noise in (("rita", 0.3), ("ravi", 2.0)):
        token = setup["tokens"][name]
        join(client, token)
        scores = setup["x"] + np.random.default_rng(len(name)).normal(scale=noise, size=len(setup["x"]))
        submit(client, token, predictions_csv(setup["ids"], scores))
    app.extensions["job_queue"].join()


def test_public_leaderboard_ranks_best_per_participant(app, client, setup):
    _score_two(app, client, setup)
    rows = api(client, "GET", f"/competitions/{SLUG}/leaderboard").get_json()["rows"]
    assert [(r["rank"], r["participant"]) for r in rows] == [(1, "rita"), (2, "ravi")]
    assert rows[0]["score"] > rows[1]["score"] and rows[0]["submissions"] == 1


def test_private_leaderboard_is_hidden_before_the_close_and_shown_after(app, client, setup):
    _score_two(app, client, setup)
    assert api(client, "GET", f"/competitions/{SLUG}/leaderboard?board=private").status_code == 403
    assert (
        api(client, "GET", f"/competitions/{SLUG}/leaderboard?board=private", setup["tokens"]["rita"]).status_code
        == 403
    )
    assert (
        api(client, "GET", f"/competitions/{SLUG}/leaderboard?board=private", setup["tokens"]["olga"]).status_code
        == 200
    )
    with app.app_context():
        db.session.execute(db.select(Competition)).scalar_one().closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    rows = api(client, "GET", f"/competitions/{SLUG}/leaderboard?board=private").get_json()["rows"]
    assert {r["participant"] for r in rows} == {"rita", "ravi"}
    assert all(r["public_rank"] is not None for r in rows)
    body = api(client, "GET", "/submissions/1", setup["tokens"]["rita"]).get_json()
    assert body["private_score"] is not None


def test_final_selection_is_limited(app, client, setup):
    token = setup["tokens"]["rita"]
    join(client, token)
    ids = [submit(client, token, predictions_csv(setup["ids"], setup["x"])).get_json()["id"] for _ in range(3)]
    app.extensions["job_queue"].join()
    assert [api(client, "POST", f"/submissions/{i}/select", token).status_code for i in ids] == [
        200,
        200,
        409,
    ]
    assert api(client, "DELETE", f"/submissions/{ids[0]}/select", token).get_json()["selected"] is False
    assert api(client, "POST", f"/submissions/{ids[2]}/select", token).status_code == 200


def test_openapi_document_is_valid_and_covers_every_api_route(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item if method != "parameters"
    }
    for rule in client.application.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in the OpenAPI document"
