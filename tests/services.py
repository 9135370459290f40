"""The real services the integration tiers need, found from TEST_* variables.

A tier whose service is unreachable is skipped with the reason, except under
``CI=true``, where it fails: CI must never pass by silently testing less.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/dqm_test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def unavailable(tier: str, reason: str) -> None:
    """Skip the test because its tier's service is missing, or fail under CI=true."""
    message = f"{tier} tier unavailable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true requires every tier)", pytrace=False)
    pytest.skip(message)


def postgres_url() -> str:
    """A PostgreSQL URL whose server answers, or skip."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        import psycopg2

        psycopg2.connect(_maintenance_dsn(url), connect_timeout=3).close()
    except Exception as error:
        unavailable("PostgreSQL", f"{_safe(url)}: {error}".strip())
    return url


def _maintenance_dsn(url: str) -> str:
    """The same server, connected to its maintenance database to create and drop others."""
    return urlparse(url)._replace(path="/postgres").geturl()


def _safe(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(netloc=parsed.hostname or "").geturl()


def redis_url() -> str:
    """A Redis URL whose server answers, or skip."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as error:
        unavailable("Redis", f"{url}: {error}")
    return url


def chromium_path() -> str:
    """The Chromium executable for Playwright, or skip."""
    path = os.environ.get("TEST_CHROMIUM", DEFAULT_CHROMIUM)
    if not Path(path).is_file():
        unavailable("browser", f"no Chromium at {path} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("browser", "playwright is not installed")
    return path


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app) -> tuple[str, Callable[[], None]]:
    """Serve a WSGI app over HTTP on a loopback port, in a thread; returns its URL and a function that stops it."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    answering = threading.local()

    def remembering(environ, start_response):
        answering.body = app(environ, start_response)
        return answering.body

    class Handler(WSGIRequestHandler):
        def connection_dropped(self, error, environ=None) -> None:
            # A browser that leaves a page mid-download drops the connection before the development server
            # closes the response (a static file, say), which would leave the file to the garbage collector.
            body = getattr(answering, "body", None)
            if body is not None and hasattr(body, "close"):
                body.close()

    server = make_server("127.0.0.1", free_port(), remembering, threaded=True, request_handler=Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(10)

    return f"http://127.0.0.1:{server.server_port}", stop


def wait_for_port(port: int, timeout: float = 20) -> bool:
    """Whether something starts listening on the loopback port within the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


class MotoServer:
    """An S3-compatible endpoint over HTTP on a loopback port, for runs without TEST_S3_ENDPOINT_URL."""

    def __init__(self) -> None:
        executable = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
        if executable is None:
            unavailable("S3", "TEST_S3_ENDPOINT_URL is unset and moto_server is not installed")
        self.port = free_port()
        self.process = subprocess.Popen(
            [executable, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_port(self.port):
            self.stop()
            unavailable("S3", "moto_server did not start")
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """End the server process."""
        self.process.terminate()
        self.process.wait(10)
