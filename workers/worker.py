"""The RQ worker process behind ``flask worker``."""

from __future__ import annotations

from flask import Flask

from workers.context import bind_app


def run_worker(app: Flask, *, burst: bool = False, queues: list[str] | None = None, fork: bool = False) -> bool:
    """Take jobs from the app's Redis queues until stopped (or until empty with burst).

    By default jobs run in this process, which keeps loaded solutions cached between
    submissions; ``fork`` runs each job in a forked child instead, isolating it at
    the cost of about 0.1 s per job. A worker that dies either way is covered by the reaper.
    """
    from redis import Redis
    from rq import Queue, SimpleWorker, Worker

    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        raise RuntimeError("REDIS_URL is not set: without Redis, jobs run inside the web process and need no worker.")
    connection = Redis.from_url(redis_url)
    names = queues or [app.config["RQ_QUEUE"]]
    bind_app(app)
    # Import the jobs (and pyarrow, scikit-learn...) once here: each forked work horse inherits them.
    import workers.rescoring
    import workers.scoring  # noqa: F401

    if app.config.get("REAPER_INTERVAL"):
        from workers.reaper import start_reaper_thread

        start_reaper_thread(app, app.config["REAPER_INTERVAL"])
    worker_class = Worker if fork else SimpleWorker
    worker = worker_class([Queue(name, connection=connection) for name in names], connection=connection)
    return worker.work(burst=burst, with_scheduler=True)
