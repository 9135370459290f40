"""Background jobs: RQ on Redis in production, a thread of the web process when embedded.

Both backends take the same job functions, referenced by their dotted path
(``workers.jobs.health_check``) so that a worker on another machine imports them
itself. Callers enqueue after their transaction commits, so a worker never sees a
row that is not there yet.
"""

from __future__ import annotations

import importlib
import logging
import queue as stdlib_queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask, current_app

log = logging.getLogger(__name__)


def resolve(func_path: str) -> Callable[..., Any]:
    """The function a dotted path names, such as ``workers.jobs.health_check``."""
    module_name, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


class JobQueue(Protocol):
    """What both queue backends offer."""

    def enqueue(
        self, func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None
    ) -> str: ...


class RQJobQueue:
    """Jobs on a Redis queue, run by any number of ``flask worker`` processes."""

    def __init__(self, redis_url: str, name: str, default_timeout: int) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(name, connection=self.connection, default_timeout=default_timeout)

    def enqueue(
        self, func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None
    ) -> str:
        """Put the job on the Redis queue; returns its id."""
        job = self.queue.enqueue_call(func_path, args=args, job_id=job_id, timeout=timeout)
        return job.id


class ThreadJobQueue:
    """Jobs run one at a time by a daemon thread of this process, inside this app's context."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.jobs: stdlib_queue.Queue[tuple[str, tuple]] = stdlib_queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._count = 0

    def enqueue(
        self, func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None
    ) -> str:
        """Hand the job to the background thread, starting it on first use; returns a job id."""
        resolve(func_path)  # fail in the caller, not silently in the thread, on a bad path
        with self._lock:
            self._count += 1
            job_id = job_id or f"thread-{self._count}"
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="playground-jobs", daemon=True)
                self._thread.start()
        self.jobs.put((func_path, args))
        return job_id

    def join(self) -> None:
        """Wait until every job enqueued so far has run."""
        self.jobs.join()

    def _run(self) -> None:
        while True:
            func_path, args = self.jobs.get()
            try:
                with self.app.app_context():
                    resolve(func_path)(*args)
            except Exception:
                log.exception("background job %s%r failed", func_path, args)
            finally:
                self.jobs.task_done()


def init_app(app: Flask) -> None:
    """Attach the queue backend the configuration asks for."""
    if app.config.get("REDIS_URL"):
        backend: JobQueue = RQJobQueue(
            app.config["REDIS_URL"], app.config["RQ_QUEUE"], app.config["JOB_TIMEOUT"]
        )
    else:
        backend = ThreadJobQueue(app)
    app.extensions["job_queue"] = backend


def get_queue() -> JobQueue:
    """The current app's job queue."""
    return current_app.extensions["job_queue"]


def enqueue(func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None) -> str:
    """Enqueue a job on the current app's queue; call it after the commit the job depends on."""
    return get_queue().enqueue(func_path, *args, job_id=job_id, timeout=timeout)
