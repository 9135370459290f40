"""Shared set-up of the benchmarks: a throw-away PostgreSQL database and the app on it."""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin(url: str, statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(urlparse(url)._replace(path="/postgres").geturl())
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database (BENCH_DATABASE_URL names the server), dropped afterwards."""
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    name = f"dqm_bench_{uuid.uuid4().hex[:8]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield urlparse(server)._replace(path=f"/{name}").geturl()
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(database_url: str, storage: Path, **overrides):
    """The app on this database and a storage folder, migrated."""
    from flask_migrate import upgrade

    from app import create_app
    from config import Config

    config = Config({"SECRET_KEY": "bench", "DATABASE_URL": database_url, "STORAGE_URL": f"file://{storage}"})
    app = create_app(config, RATELIMIT_ENABLED=False, REAPER_INTERVAL=0, **overrides)
    with app.app_context():
        upgrade()
    return app


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of the action over repeat runs, after one warm-up run."""
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
