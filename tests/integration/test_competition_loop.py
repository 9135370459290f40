"""The whole competition loop on PostgreSQL, Redis with real RQ workers, and an S3 endpoint over HTTP."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
import requests

from app.extensions import db
from app.models import Competition, Role
from app.models.types import utcnow
from app.services.competitions.bundles import import_bundle
from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle
from tests.integration.conftest import run_worker

pytestmark = [pytest.mark.redis, pytest.mark.s3, pytest.mark.databases("postgresql")]
SLUG = "test-comp"


def test_import_join_submit_score_and_leaderboards(stack, tmp_path):
    client = stack.test_client()
    folder, ids, _labels, x = write_bundle(tmp_path / "bundle")
    with stack.app_context():
        import_bundle(folder)
        rita, ravi = make_token(make_user("rita")), make_token(make_user("ravi"))
        olga = make_token(make_user("olga", Role.ORGANISER))

    for token in (rita, ravi):
        assert (
            client.post(
                f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True}
            ).status_code
            == 200
        )

    # Public files come straight from the store through a short-lived URL.
    redirect = client.get(f"/api/v1/competitions/{SLUG}/files/test.csv", headers=bearer(rita))
    assert redirect.status_code == 302
    assert requests.get(redirect.headers["Location"], timeout=10).content == (folder / "test.csv").read_bytes()

    noisy = x + np.random.default_rng(1).normal(scale=2.0, size=len(x))
    for token, scores in ((rita, x), (ravi, noisy)):
        accepted = client.post(
            f"/api/v1/competitions/{SLUG}/submissions",
            headers=bearer(token),
            data={"file": (io.BytesIO(predictions_csv(ids, scores)), "p.csv")},
        )
        assert accepted.status_code == 202
    run_worker(stack)

    mine = client.get(f"/api/v1/competitions/{SLUG}/submissions", headers=bearer(rita)).get_json()["submissions"]
    assert mine[0]["status"] == "scored" and mine[0]["private_score"] is None
    board = client.get(f"/api/v1/competitions/{SLUG}/leaderboard").get_json()["rows"]
    assert [row["participant"] for row in board] == ["rita", "ravi"]
    assert client.get(f"/api/v1/competitions/{SLUG}/leaderboard?board=private").status_code == 403
    assert (
        client.get(f"/api/v1/submissions/{mine[0]['id']}", headers=bearer(olga)).get_json()["private_score"] is not None
    )

    with stack.app_context():
        db.session.execute(db.select(Competition)).scalar_one().closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    private = client.get(f"/api/v1/competitions/{SLUG}/leaderboard?board=private").get_json()["rows"]
    assert {row["participant"] for row in private} == {"rita", "ravi"}
    assert (
        client.get(f"/api/v1/submissions/{mine[0]['id']}", headers=bearer(rita)).get_json()["private_score"] is not None
    )


def test_solution_never_leaves_through_a_storage_url(stack, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    with stack.app_context():
        competition = import_bundle(folder)
        token = make_token(make_user("rita"))
        solution_key = competition.solution_file.storage_key
    client = stack.test_client()
    client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
    for name in ("test.csv", "train.csv", "sample_submission.csv"):
        location = client.get(f"/api/v1/competitions/{SLUG}/files/{name}", headers=bearer(token)).headers["Location"]
        assert solution_key not in location and "/solution/" not in location
    assert client.get(f"/api/v1/competitions/{SLUG}/files/solution.csv", headers=bearer(token)).status_code == 404
