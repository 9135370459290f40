"""Leaderboards cached in Redis, under many processes: a reader caching a board again while a score lands."""

from __future__ import annotations

import uuid

import pytest

from app.extensions import cache, db
from app.services.competitions import leaderboards
from tests import services
from tests.conftest import make_app
from tests.helpers import make_competition

pytestmark = [pytest.mark.redis, pytest.mark.databases("postgresql")]


def test_a_board_cached_again_during_an_invalidation_is_no_failure(database_url, tmp_path, monkeypatch):
    """A web process may cache the board between the worker's delete and its check that the key is gone: the
    board it cached is fresh (the score was committed first), and the scoring job must not fail over it."""
    redis = services.redis_url()
    app = make_app(
        database_url,
        tmp_path,
        REDIS_URL=redis,
        RQ_QUEUE=f"test-{uuid.uuid4().hex}",
        CACHE_TYPE="RedisCache",  # as Config sets it when REDIS_URL is in the environment
        CACHE_REDIS_URL=redis,
        CACHE_KEY_PREFIX=f"test-{uuid.uuid4().hex}:",
    )
    with app.app_context():
        competition = make_competition(tmp_path)
        leaderboards.get(competition)
        client = cache.cache._write_client
        delete = client.delete

        def delete_then_a_reader_caches_again(*keys):
            deleted = delete(*keys)
            leaderboards.get(competition)  # another process, between the delete and the check
            return deleted

        monkeypatch.setattr(client, "delete", delete_then_a_reader_caches_again)
        leaderboards.invalidate(competition)
        monkeypatch.undo()
        cache.clear()
        db.engine.dispose()
