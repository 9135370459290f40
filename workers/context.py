"""The application context a job runs in, whichever process runs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_bound: Flask | None = None
_engine_pid = os.getpid()


def bind_app(app: Flask) -> None:
    """Make jobs of this process run against this app (``flask worker`` binds its own)."""
    global _bound
    _bound = app


def _app() -> Flask:
    global _bound
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
    if _bound is None:
        from app import create_app

        _bound = create_app()
    return _bound


@contextmanager
def job_context() -> Iterator[Flask]:
    """Enter a fresh app context (and so a fresh database session) for one job."""
    global _engine_pid
    app = _app()
    with app.app_context():
        if os.getpid() != _engine_pid:
            # A forked work horse must not reuse the parent's database connections.
            from app.extensions import db

            db.engine.dispose(close=False)
            _engine_pid = os.getpid()
        yield app
