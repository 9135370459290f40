"""Concurrent uploads on PostgreSQL never exceed a daily limit: one researcher's, or the two members of a team's."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Submission
from app.models.types import utcnow
from app.services.competitions.bundles import import_bundle
from app.services.competitions.quotas import utc_day_start
from app.services.queue import get_queue
from tests import services
from tests.conftest import make_app
from tests.helpers import bearer, make_token, make_user, predictions_csv, write_bundle

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]


def test_twenty_concurrent_uploads_accept_exactly_five(database_url, tmp_path):
    app = make_app(database_url, tmp_path, REDIS_URL=services.redis_url(), RQ_QUEUE=f"test-{uuid.uuid4().hex}")
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_bundle(folder)
        token = make_token(make_user("rita"))
    app.test_client().post("/api/v1/competitions/test-comp/join", headers=bearer(token), json={"accept_rules": True})
    content = predictions_csv(ids, x)

    def upload(_):
        response = app.test_client().post(
            "/api/v1/competitions/test-comp/submissions",
            headers=bearer(token),
            data={"file": (io.BytesIO(content), "p.csv")},
        )
        return response.status_code, response.headers.get("Retry-After")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(upload, range(20)))
    next_slot = utc_day_start(utcnow()) + timedelta(days=1)

    statuses = sorted(status for status, _ in results)
    assert statuses == [202] * 5 + [429] * 15
    for status, retry_after in results:
        if status == 429:
            assert abs(int(retry_after) - (next_slot - utcnow()).total_seconds()) < 5
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Submission.id))).scalar() == 5
        stored = list((tmp_path / "storage" / "submissions").rglob("*.csv"))
        assert len(stored) == 5, "refused uploads must leave no file behind"
        get_queue().queue.delete(delete_jobs=True)
        db.engine.dispose()


def test_two_members_of_a_team_uploading_at_once_share_its_five_a_day(database_url, tmp_path):
    """Twenty concurrent uploads, ten by each member of a team, daily_limit 5: five accepted in all."""
    app = make_app(database_url, tmp_path, REDIS_URL=services.redis_url(), RQ_QUEUE=f"test-{uuid.uuid4().hex}")
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_bundle(folder)
        tokens = [make_token(make_user(name)) for name in ("rita", "ravi")]
    client = app.test_client()
    for token in tokens:
        client.post("/api/v1/competitions/test-comp/join", headers=bearer(token), json={"accept_rules": True})
    team = client.post("/api/v1/competitions/test-comp/teams", headers=bearer(tokens[0]), json={"name": "Pair"})
    joined = client.post(
        "/api/v1/competitions/test-comp/teams/join",
        headers=bearer(tokens[1]),
        json={"invite_token": team.get_json()["invite_token"]},
    )
    assert joined.status_code == 200
    content = predictions_csv(ids, x)

    def upload(number):
        response = app.test_client().post(
            "/api/v1/competitions/test-comp/submissions",
            headers=bearer(tokens[number % 2]),
            data={"file": (io.BytesIO(content), "p.csv")},
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(upload, range(20)))

    assert statuses == [202] * 5 + [429] * 15
    with app.app_context():
        made = db.session.execute(db.select(Submission.team_id, Submission.user_id)).all()
        assert len(made) == 5 and {team_id for team_id, _ in made} == {team.get_json()["id"]}
        stored = list((tmp_path / "storage" / "submissions").rglob("*.csv"))
        assert len(stored) == 5, "refused uploads must leave no file behind"
        get_queue().queue.delete(delete_jobs=True)
        db.engine.dispose()
