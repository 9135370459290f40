"""The RQ worker process behind ``flask worker``."""

from __future__ import annotations

from flask import Flask

from workers.context import bind_app


def run_worker(app: Flask, *, burst: bool = False, queues: list[str] | None = None) -> bool:
    """Take jobs from the app's Redis queues until stopped (or until empty with burst)."""
    from redis import Redis
    from rq import Queue, Worker

    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        raise RuntimeError("REDIS_URL is not set: without Redis, jobs run inside the web process and need no worker.")
    connection = Redis.from_url(redis_url)
    names = queues or [app.config["RQ_QUEUE"]]
    bind_app(app)
    if app.config.get("REAPER_INTERVAL"):
        from workers.reaper import start_reaper_thread

        start_reaper_thread(app, app.config["REAPER_INTERVAL"])
    worker = Worker([Queue(name, connection=connection) for name in names], connection=connection)
    return worker.work(burst=burst, with_scheduler=True)
