"""Background jobs: RQ on Redis in production, threads of the web process when embedded.

Both backends take the same job functions, referenced by their dotted path
(``workers.jobs.health_check``) so that a worker on another machine imports them
itself. Callers enqueue after their transaction commits, so a worker never sees a
row that is not there yet. Both stop a job past its timeout, and both tell the
reaper whether the process a job was running in is still alive.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import queue as stdlib_queue
import socket
import threading
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask, current_app

from app.services import metrics

log = logging.getLogger(__name__)
HEARTBEAT_KEY = "playground:heartbeat:{}"
# Started like any job, by its dotted path: the web process never imports workers.
REAPER_THREAD = "workers.reaper.start_reaper_thread"


def process_name() -> str:
    """Host and process id of this process: how a submission names the worker scoring it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def resolve(func_path: str) -> Callable[..., Any]:
    """The function a dotted path names, such as ``workers.jobs.health_check``."""
    module_name, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


class JobQueue(Protocol):
    """What both queue backends offer."""

    def enqueue(self, func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None) -> str: ...
    def is_pending(self, job_id: str) -> bool: ...
    def is_alive(self, worker: str) -> bool: ...


class RQJobQueue:
    """Jobs on a Redis queue, run by any number of ``flask worker`` processes."""

    def __init__(self, redis_url: str, name: str, default_timeout: int) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(name, connection=self.connection, default_timeout=default_timeout)

    def enqueue(self, func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None) -> str:
        """Put the job on the Redis queue; returns its id."""
        job = self.queue.enqueue_call(func_path, args=args, job_id=job_id, timeout=timeout)
        return job.id

    def is_pending(self, job_id: str) -> bool:
        """Whether Redis still holds the job as queued, scheduled or running."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            status = Job.fetch(job_id, connection=self.connection).get_status()
        except NoSuchJobError:
            return False
        return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)

    def beat(self, worker: str, ttl: int) -> None:
        """Say that the worker process (as process_name() names it) is alive for ttl more seconds."""
        self.connection.set(HEARTBEAT_KEY.format(worker), 1, ex=ttl)

    def is_alive(self, worker: str) -> bool:
        """Whether the worker process beat within its heartbeat's time to live."""
        return bool(self.connection.exists(HEARTBEAT_KEY.format(worker)))


class JobTimeout(Exception):
    """Raised inside an in-process job that ran past its timeout, as RQ raises JobTimeoutException in a worker."""


class ThreadJobQueue:
    """Jobs run one at a time, each in a daemon thread of this process, inside this app's context.

    A job past its timeout (JOB_TIMEOUT unless the job has its own) gets JobTimeout raised
    in its thread; one that does not stop within JOB_STOP_GRACE seconds (stuck outside
    Python code) is abandoned, and the next jobs go on without it.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.jobs: stdlib_queue.Queue[tuple[str, str, tuple, int]] = stdlib_queue.Queue()
        self._thread: threading.Thread | None = None
        self._reaper: threading.Thread | None = None
        self._lock = threading.Lock()
        self._count = 0
        self._pending: set[str] = set()

    def enqueue(self, func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None) -> str:
        """Hand the job to the background thread, starting it on first use; returns a job id."""
        resolve(func_path)  # fail in the caller, not silently in the thread, on a bad path
        with self._lock:
            self._count += 1
            job_id = job_id or f"thread-{self._count}"
            self._pending.add(job_id)
        self.start()
        self.jobs.put((job_id, func_path, args, timeout or self.app.config["JOB_TIMEOUT"]))
        return job_id

    def is_pending(self, job_id: str) -> bool:
        """Whether this process still has the job to run, or runs it now."""
        return job_id in self._pending

    def is_alive(self, worker: str) -> bool:
        """Whether the worker is this process: jobs run nowhere else, and a restart leaves its jobs behind."""
        return worker == process_name()

    def start(self) -> None:
        """Start the job thread, and the reaper thread when REAPER_INTERVAL is set, if not running."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="playground-jobs", daemon=True)
                self._thread.start()
            interval = self.app.config.get("REAPER_INTERVAL") or 0
            if interval > 0 and (self._reaper is None or not self._reaper.is_alive()):
                self._reaper = resolve(REAPER_THREAD)(self.app, interval)

    def join(self) -> None:
        """Wait until every job enqueued so far has run (or was abandoned)."""
        self.jobs.join()

    def _run(self) -> None:
        while True:
            job_id, func_path, args, timeout = self.jobs.get()
            try:
                self._supervise(job_id, func_path, args, timeout)
            finally:
                self._pending.discard(job_id)
                self.jobs.task_done()

    def _supervise(self, job_id: str, func_path: str, args: tuple, timeout: int) -> None:
        """Run one job in a thread of its own; stop it past its timeout, abandon it if it will not stop."""
        name = f"playground-job-{job_id}"
        thread = threading.Thread(target=self._perform, args=(func_path, args), name=name, daemon=True)
        thread.start()
        thread.join(timeout)
        if not thread.is_alive():
            return
        log.warning("background job %s%r ran past its timeout of %s s; stopping it", func_path, args, timeout)
        _raise_in(thread, JobTimeout)
        thread.join(self.app.config["JOB_STOP_GRACE"])
        if thread.is_alive():
            log.error("background job %s%r does not stop; its thread is abandoned", func_path, args)

    def _perform(self, func_path: str, args: tuple) -> None:
        try:
            with self.app.app_context():
                resolve(func_path)(*args)
        except JobTimeout:
            log.warning("background job %s%r stopped at its timeout", func_path, args)
            metrics.record_job_failed(self.app, func_path)
        except Exception:
            log.exception("background job %s%r failed", func_path, args)
            metrics.record_job_failed(self.app, func_path)


def _raise_in(thread: threading.Thread, exception: type[BaseException]) -> None:
    """Raise the exception in the thread the next time it runs Python code."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), ctypes.py_object(exception))


def init_app(app: Flask) -> None:
    """Attach the queue backend the configuration asks for."""
    if app.config.get("REDIS_URL"):
        backend: JobQueue = RQJobQueue(app.config["REDIS_URL"], app.config["RQ_QUEUE"], app.config["JOB_TIMEOUT"])
    else:
        backend = ThreadJobQueue(app)
        # Submissions left queued by a previous run of the process get reaped once it serves again.
        app.before_request(backend.start)
    app.extensions["job_queue"] = backend


def get_queue() -> JobQueue:
    """The current app's job queue."""
    return current_app.extensions["job_queue"]


def enqueue(func_path: str, *args: Any, job_id: str | None = None, timeout: int | None = None) -> str:
    """Enqueue a job on the current app's queue; call it after the commit the job depends on."""
    return get_queue().enqueue(func_path, *args, job_id=job_id, timeout=timeout)
