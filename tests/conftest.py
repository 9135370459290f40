"""Fixtures shared by every tier: the app on a fresh database, its clients, and an auth helper.

Each test gets a database of its own, copied from a template migrated once per
test process, so that the suite runs in parallel: SQLite by default, and
PostgreSQL too for tests marked ``@pytest.mark.databases("sqlite", "postgresql")``.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from config import Config
from tests import services

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(database_url: str, tmp_path: Path, **overrides) -> Flask:
    """An app as tests use it: its own database and storage folder, no rate limits."""
    config = Config(
        {
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "STORAGE_URL": f"file://{tmp_path}/storage",
        }
    )
    settings = {"TESTING": True, "RATELIMIT_ENABLED": False, "REAPER_INTERVAL": 0}
    return create_app(config, **(settings | overrides))


def migrate(database_url: str, tmp_path: Path) -> None:
    """Apply every migration to the database, as `flask db upgrade` does."""
    from flask_migrate import upgrade

    app = make_app(database_url, tmp_path)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run tests that use a database on each backend their `databases` marker names."""
    if "database_url" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("databases")
        backends = marker.args if marker else ("sqlite",)
        metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every migration applied, copied for each test."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A PostgreSQL database with every migration applied, used as the template of each test's."""
    url = services.postgres_url()
    name = f"{_database_name(url)}_tpl_{worker_id}"
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    migrate(_with_database(url, name), tmp_path_factory.mktemp("pg-template"))
    yield name
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/") or "dqm_test"


def _with_database(url: str, name: str) -> str:
    return urlparse(url)._replace(path=f"/{name}").geturl()


def _postgres_admin(url: str, *statements: str) -> None:
    import psycopg2

    connection = psycopg2.connect(_with_database(url, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A fresh, migrated database for this test alone, on the backend the parameter names."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    url = services.postgres_url()
    name = f"{_database_name(url)}_{worker_id}_{uuid.uuid4().hex[:8]}"
    _postgres_admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _with_database(url, name)
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The application on this test's own database and storage folder."""
    app = make_app(database_url, tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible endpoint: TEST_S3_ENDPOINT_URL, or a moto server started for this run."""
    url = os.environ.get("TEST_S3_ENDPOINT_URL")
    if url:
        yield url
        return
    server = services.MotoServer()
    yield server.url
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A new, empty bucket on the S3 endpoint; returns (bucket, endpoint URL)."""
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, os.environ.get(name, value))
    monkeypatch.setenv("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return bucket, s3_endpoint


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like test client with cookies."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """Runs the app's server commands."""
    return app.test_cli_runner()


class AuthActions:
    """Log in, out and register through the real forms, CSRF token included."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self, path: str = "/login") -> str:
        """The CSRF token of the form on the page at path."""
        page = self.client.get(path).get_data(as_text=True)
        match = CSRF_PATTERN.search(page)
        assert match, f"no CSRF token in the page at {path}"
        return match.group(1)

    def login(self, username: str, password: str, **extra):
        """Submit the login form."""
        data = {"username": username, "password": password, "csrf_token": self.csrf_token("/login"), **extra}
        return self.client.post("/login", data=data)

    def logout(self):
        """Submit the logout button of the navigation."""
        return self.client.post("/logout", data={"csrf_token": self.csrf_token("/")})

    def register(self, username: str, password: str, email: str = "", confirm: str | None = None):
        """Submit the registration form."""
        data = {
            "username": username,
            "email": email,
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": self.csrf_token("/register"),
        }
        return self.client.post("/register", data=data)


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """The auth helper bound to this test's client."""
    return AuthActions(client)


TIERS = ("postgres", "redis", "s3", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that run on PostgreSQL as the postgres tier, whichever way they got there."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and any(isinstance(v, str) and v == "postgresql" for v in callspec.params.values()):
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many tests of each service tier passed, so a log shows what really ran."""
    counts = dict.fromkeys(TIERS, 0)
    for report in terminalreporter.stats.get("passed", []):
        for tier in TIERS:
            if tier in report.keywords:
                counts[tier] += 1
    terminalreporter.write_line("tiers passed: " + ", ".join(f"{tier} {n}" for tier, n in counts.items()))
