"""The RQ worker process behind ``flask worker``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from flask import Flask

from workers.context import bind_app

if TYPE_CHECKING:
    from redis import Redis
    from rq import Worker
    from rq.worker import BaseWorker

    from app.services.queue import RQJobQueue


def run_worker(app: Flask, *, burst: bool = False, queues: list[str] | None = None, fork: bool = False) -> bool:
    """Take jobs from the app's Redis queues until stopped (or until empty with burst).

    By default jobs run in this process, which keeps loaded solutions cached between
    submissions; ``fork`` runs each job in a forked child instead, isolating it at
    the cost of about 0.1 s per job. The process beats while it lives, and leaves no
    child behind when it dies; a worker that dies either way is covered by the reaper.
    """
    from redis import Redis
    from rq import Queue, SimpleWorker

    from app.services.metrics import rq_job_failed
    from app.services.queue import RQJobQueue, get_queue
    from workers.heartbeat import start_heartbeat

    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        raise RuntimeError("REDIS_URL is not set: without Redis, jobs run inside the web process and need no worker.")
    connection = Redis.from_url(redis_url)
    names = queues or [app.config["RQ_QUEUE"]]
    bind_app(app)
    # Import the jobs (and pyarrow, scikit-learn...) once here: each forked work horse inherits them.
    import workers.rescoring
    import workers.scoring  # noqa: F401

    with app.app_context():
        queue = get_queue()
    if not isinstance(queue, RQJobQueue):  # REDIS_URL is set: the app's queue is on Redis, where workers beat
        raise RuntimeError(f"the app's job queue is {type(queue).__name__}, not Redis: a worker has nothing to take.")
    start_heartbeat(queue, app.config["HEARTBEAT_TTL"])
    if app.config.get("REAPER_INTERVAL"):
        from workers.reaper import start_reaper_thread

        start_reaper_thread(app, app.config["REAPER_INTERVAL"])
    worker: BaseWorker
    if fork:
        worker = _forking_worker(queue, app.config["HEARTBEAT_TTL"], names, connection)
    else:
        worker = SimpleWorker([Queue(name, connection=connection) for name in names], connection=connection)
    worker.push_exc_handler(rq_job_failed)  # counted for /metrics, then handled as RQ does
    # No scheduler: nothing is enqueued for later, and its process would outlive a killed worker.
    return worker.work(burst=burst, with_scheduler=False)


def _forking_worker(queue: RQJobQueue, ttl: int, names: list[str], connection: Redis) -> Worker:
    """RQ's forking worker, whose work horses die with it and beat for themselves."""
    from rq import Queue, Worker

    from workers.heartbeat import die_with_parent, start_heartbeat

    parent = os.getpid()  # the worker: the work horses are its children

    class TiedWorker(Worker):
        def main_work_horse(self, job, job_queue) -> None:
            """In the forked child: die with the worker, beat as a process of its own, then run the job."""
            die_with_parent(parent)
            start_heartbeat(queue, ttl)
            super().main_work_horse(job, job_queue)

    return TiedWorker([Queue(name, connection=connection) for name in names], connection=connection)
