"""Configuration: the variables of CONTRACT.md, their defaults, and the production guard."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import BASE_DIR, Config, ConfigError
from tests.services import free_port


def test_defaults_need_no_service():
    """With no variables set, everything is embedded: SQLite and files under instance/, no Redis."""
    config = Config({})
    assert config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{BASE_DIR / 'instance' / 'playground.db'}"
    assert config.STORAGE_URL == f"file://{BASE_DIR / 'instance' / 'storage'}"
    assert config.REDIS_URL is None
    assert config.S3_ENDPOINT_URL is None and config.S3_PUBLIC_ENDPOINT_URL is None
    assert config.TRUSTED_PROXIES == 0  # X-Forwarded-* ignored unless deployed behind proxies
    assert config.MAX_UPLOAD_MB == 200
    assert config.MAX_CONTENT_LENGTH == 200 * 1024 * 1024
    assert config.CACHE_TYPE == "SimpleCache"
    assert config.RATELIMIT_STORAGE_URI == "memory://"


def test_variables_override_defaults():
    """Each variable of CONTRACT.md is read, and Redis backs the cache and rate limits when set."""
    config = Config(
        {
            "SECRET_KEY": "s3cret",
            "DATABASE_URL": "postgresql://u@db/playground",
            "REDIS_URL": "redis://cache:6379/0",
            "STORAGE_URL": "s3://bucket/prefix",
            "S3_ENDPOINT_URL": "http://minio:9000",
            "S3_PUBLIC_ENDPOINT_URL": "https://s3.example.org",
            "TRUSTED_PROXIES": "1",
            "MAX_UPLOAD_MB": "5",
        }
    )
    assert config.SECRET_KEY == "s3cret"
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg2://u@db/playground"
    assert config.REDIS_URL == "redis://cache:6379/0"
    assert config.CACHE_TYPE == "RedisCache"
    assert config.RATELIMIT_STORAGE_URI == "redis://cache:6379/0"
    assert config.STORAGE_URL == "s3://bucket/prefix"
    assert config.S3_ENDPOINT_URL == "http://minio:9000"
    assert config.S3_PUBLIC_ENDPOINT_URL == "https://s3.example.org" and config.TRUSTED_PROXIES == 1
    assert config.MAX_CONTENT_LENGTH == 5 * 1024 * 1024


@pytest.mark.parametrize("url", ["postgres://u@h/d", "postgresql://u@h/d", "postgresql+psycopg2://u@h/d"])
def test_postgres_urls_use_the_shipped_driver(url):
    """Plain and `postgres://` URLs, as hosting platforms hand them out, use psycopg2."""
    assert Config({"DATABASE_URL": url}).SQLALCHEMY_DATABASE_URI == "postgresql+psycopg2://u@h/d"


def test_development_secret_is_random_per_start():
    """Without SECRET_KEY in development, each start signs sessions with a new random key."""
    first, second = Config({}).SECRET_KEY, Config({}).SECRET_KEY
    assert len(first) >= 32 and first != second


@pytest.mark.parametrize("variable", ["APP_ENV", "FLASK_ENV"])
def test_production_refuses_to_start_without_secret_key(variable):
    """Production mode without SECRET_KEY is refused, and the message says why."""
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        Config({variable: "production"})
    assert Config({variable: "production", "SECRET_KEY": "x" * 40}).SESSION_COOKIE_SECURE


def test_wsgi_exits_with_the_reason_and_no_traceback():
    """`flask --app wsgi` in production without a key stops with one readable line."""
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"APP_ENV": "production"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_gunicorn_stops_with_the_reason_instead_of_respawning_workers():
    """`gunicorn wsgi:app` in production without a key exits by itself, saying why, rather than booting
    workers that die, forever."""
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"APP_ENV": "production"}
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "--workers", "2"]
    command += ["--no-control-socket", "wsgi:app"]
    server = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so that a gunicorn that does not stop goes with all its workers
    )
    try:
        output, _ = server.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        output, _ = server.communicate()
        pytest.fail(f"gunicorn was still running after 90 s; it said:\n{output[-3000:]}")
    assert server.returncode != 0
    assert "DQM Playground cannot start: SECRET_KEY is not set" in output


def test_compose_file_sets_only_variables_the_platform_reads():
    """A misspelt variable in the deployment would be ignored without a word: each one must be read."""
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    variables = compose["x-app"]["environment"]
    source = (BASE_DIR / "config.py").read_text()
    unread = [name for name in variables if not name.startswith("AWS_") and f'env.get("{name}")' not in source]
    assert unread == []
    assert {"DATABASE_URL", "REDIS_URL", "STORAGE_URL", "S3_PUBLIC_ENDPOINT_URL"} <= set(variables)
