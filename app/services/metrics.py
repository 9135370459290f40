"""What operators watch: the platform's Prometheus metrics, counted wherever the work happens.

Three kinds of figures, each kept where every process of a deployment adds to the same count:

- **HTTP requests** (duration by endpoint, method and status) are counted by each web process with
  ``prometheus_client``. Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` names a directory where every
  process keeps its own file (``gunicorn.conf.py`` empties it at start and marks exited processes), and
  a scrape of any process adds them all up. Without it (``make run``, tests) the process counts alone.
- **What jobs do** (scoring durations, jobs failed, submissions reaped) happens in workers, on other
  machines than the web: counted in Redis when the platform has one (a hash per queue), in the app's
  memory when jobs run embedded. Recording never fails a job: a Redis hiccup loses a count, not a score.
- **States** (queue depth per queue, jobs running and failed, workers, submissions by status) are read
  from Redis and the database when scraped, so every process reports the same truth.

``render()`` gives the exposition text that ``GET /metrics`` serves.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, current_app
from prometheus_client import CollectorRegistry, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

if TYPE_CHECKING:
    from redis import Redis

    from app.models import Submission

log = logging.getLogger(__name__)

disable_created_metrics()  # no `_created` series: multiprocess mode has none, and they double what is stored
PREFIX = "playground"
REDIS_KEY = "playground:metrics:{}"  # one hash per queue: a deployment's workers share it
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SCORING_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# Not in any registry of its own: render() adds it to the registry of each scrape when the process counts
# alone; in multiprocess mode its values live in files that MultiProcessCollector reads for every process.
HTTP_REQUEST_DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=HTTP_BUCKETS,
    registry=None,
)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request."""
    HTTP_REQUEST_DURATION.labels(endpoint=endpoint, method=method, status=str(status)).observe(seconds)


# ---------------------------------------------------------------------------------------------------------
# Job events: counts in a store every process of the deployment reaches (Redis) or in this app's memory.


class EventStore(Protocol):
    """Where job events are counted: field -> number."""

    def add(self, increments: Mapping[str, float]) -> None: ...
    def read(self) -> dict[str, float]: ...


class RedisEvents:
    """Counts in one Redis hash, shared by every worker and web process of the queue."""

    def __init__(self, connection: Redis, queue_name: str) -> None:
        self.connection = connection
        self.key = REDIS_KEY.format(queue_name)

    def add(self, increments: Mapping[str, float]) -> None:
        """Add each increment to its field, in one round trip."""
        pipeline = self.connection.pipeline(transaction=False)
        for field, amount in increments.items():
            pipeline.hincrbyfloat(self.key, field, amount)
        pipeline.execute()

    def read(self) -> dict[str, float]:
        """Every field's count."""
        counts: Mapping[Any, Any] = self.connection.hgetall(self.key)
        return {_text(field): float(value) for field, value in counts.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class MemoryEvents:
    """Counts in this process, for embedded mode, where jobs run in the web process itself."""

    def __init__(self) -> None:
        self._counts: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, increments: Mapping[str, float]) -> None:
        """Add each increment to its field."""
        with self._lock:
            for field, amount in increments.items():
                self._counts[field] = self._counts.get(field, 0.0) + amount

    def read(self) -> dict[str, float]:
        """Every field's count."""
        with self._lock:
            return dict(self._counts)


def _events() -> EventStore:
    """The current app's event store: its Redis queue's hash, or its own memory when jobs run embedded."""
    from app.services.queue import RQJobQueue, get_queue  # the queue module records job failures here

    queue = get_queue()
    if isinstance(queue, RQJobQueue):
        return RedisEvents(queue.connection, queue.queue.name)
    return current_app.extensions.setdefault("metrics_events", MemoryEvents())


def _record(store: EventStore, increments: Mapping[str, float]) -> None:
    try:
        store.add(increments)
    except Exception:  # a count is not worth a failed job
        log.warning("could not record metrics %s", sorted(increments), exc_info=True)


def _bucket(seconds: float) -> str:
    return next((repr(bound) for bound in SCORING_BUCKETS if seconds <= bound), "+Inf")


def record_scoring(submission: Submission) -> None:
    """Count a finished scoring job: its duration (claim to final status) by outcome, scored or failed."""
    if submission.started_at is None or submission.finished_at is None:
        return
    seconds = max(0.0, (submission.finished_at - submission.started_at).total_seconds())
    outcome = submission.status.value
    increments = {
        f"scoring|{outcome}|bucket|{_bucket(seconds)}": 1,
        f"scoring|{outcome}|sum": seconds,
    }
    try:
        store = _events()
    except Exception:
        log.warning("no store for scoring metrics", exc_info=True)
        return
    _record(store, increments)


def record_reaped(requeued: int, failed: int) -> None:
    """Count the submissions one reaper pass re-enqueued and failed."""
    increments = {f"reaped|{action}": n for action, n in (("requeued", requeued), ("failed", failed)) if n}
    if increments:
        _record(_events(), increments)


def record_job_failed(app: Flask, func_path: str) -> None:
    """Count a job of the app's embedded queue that raised or ran past its timeout."""
    with app.app_context():
        _record(_events(), {f"jobs_failed|{func_path}": 1})


def rq_job_failed(job: Any, exc_type: Any, exc_value: Any, traceback: Any) -> bool:
    """RQ exception handler: count the failed job on its queue's hash, then let RQ go on handling it."""
    _record(RedisEvents(job.connection, job.origin), {f"jobs_failed|{job.func_name}": 1})
    return True


# ---------------------------------------------------------------------------------------------------------
# The scrape.


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, with their content type; call inside an app context."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
    else:
        registry.register(HTTP_REQUEST_DURATION)
    registry.register(_PlatformCollector())
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus reads


class _PlatformCollector:
    """The states read at scrape time and the job events counted in the event store."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            f"{PREFIX}_dependency_up", "Whether the scrape could read a dependency.", labels=["dependency"]
        )
        try:
            events = _events().read()
        except Exception:
            log.warning("metrics: job events unreadable", exc_info=True)
            events = None
        redis_ok = True
        try:
            yield from _queue_metrics()
        except Exception:
            log.warning("metrics: queue state unreadable", exc_info=True)
            redis_ok = False
        if events is not None:
            yield from _event_metrics(events)
        database_ok = True
        try:
            yield _submissions_by_status()
        except Exception:
            log.warning("metrics: submissions unreadable", exc_info=True)
            database_ok = False
        up.add_metric(["database"], float(database_ok))
        if current_app.config.get("REDIS_URL"):
            up.add_metric(["redis"], float(redis_ok and events is not None))
        yield up


def _queue_metrics() -> Iterator[Metric]:
    from app.services.queue import RQJobQueue, ThreadJobQueue, get_queue

    depth = GaugeMetricFamily(f"{PREFIX}_queue_depth", "Jobs waiting in each queue.", labels=["queue"])
    started = GaugeMetricFamily(f"{PREFIX}_queue_started_jobs", "Jobs being run from each queue.", labels=["queue"])
    failed = GaugeMetricFamily(
        f"{PREFIX}_queue_failed_jobs", "Jobs of each queue in RQ's failed registry.", labels=["queue"]
    )
    queue = get_queue()
    if isinstance(queue, RQJobQueue):
        from rq import Queue, Worker

        workers = GaugeMetricFamily(
            f"{PREFIX}_workers", "RQ workers registered on each queue, busy or idle.", labels=["queue"]
        )
        for each in sorted(Queue.all(connection=queue.connection), key=lambda q: q.name):
            depth.add_metric([each.name], each.count)
            # Read only: `.count` would also run RQ's clean-up of each registry, a worker's business.
            started.add_metric([each.name], each.started_job_registry.get_job_count(cleanup=False))
            failed.add_metric([each.name], each.failed_job_registry.get_job_count(cleanup=False))
            workers.add_metric([each.name], Worker.count(queue=each))
        yield from (depth, started, failed, workers)
    elif isinstance(queue, ThreadJobQueue):
        depth.add_metric([current_app.config["RQ_QUEUE"]], queue.jobs.qsize())
        yield depth


def _event_metrics(events: Mapping[str, float]) -> Iterator[Metric]:
    scoring = HistogramMetricFamily(
        f"{PREFIX}_scoring_duration_seconds",
        "Time from a worker's claim of a submission to its final status, by outcome.",
        labels=["outcome"],
    )
    jobs_failed = CounterMetricFamily(
        f"{PREFIX}_jobs_failed", "Jobs that raised or ran past their timeout, by job function.", labels=["job"]
    )
    reaped = CounterMetricFamily(
        f"{PREFIX}_submissions_reaped", "Stuck submissions the reaper re-enqueued or failed.", labels=["action"]
    )
    outcomes = sorted({field.split("|")[1] for field in events if field.startswith("scoring|")})
    for outcome in outcomes:
        cumulative = 0.0
        buckets = []
        for bound in [*map(repr, SCORING_BUCKETS), "+Inf"]:
            cumulative += events.get(f"scoring|{outcome}|bucket|{bound}", 0.0)
            buckets.append((bound, cumulative))
        total = events.get(f"scoring|{outcome}|sum", 0.0)
        scoring.add_metric([outcome], buckets, sum_value=total if math.isfinite(total) else 0.0)
    for field, value in sorted(events.items()):
        kind, _, name = field.partition("|")
        if kind == "jobs_failed":
            jobs_failed.add_metric([name], value)
        elif kind == "reaped":
            reaped.add_metric([name], value)
    yield from (scoring, jobs_failed, reaped)


def _submissions_by_status() -> Metric:
    from app.extensions import db
    from app.models import Submission, SubmissionStatus

    counts = dict(db.session.execute(db.select(Submission.status, db.func.count()).group_by(Submission.status)).all())
    gauge = GaugeMetricFamily(f"{PREFIX}_submissions", "Submissions in each status.", labels=["status"])
    for status in SubmissionStatus:
        gauge.add_metric([status.value], counts.get(status, 0))
    return gauge
