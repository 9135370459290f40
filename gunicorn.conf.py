"""gunicorn's settings for the web processes (read from the working directory: `gunicorn wsgi:app`).

Environment: PORT (8000), WEB_CONCURRENCY processes (2), GUNICORN_THREADS per process (4),
GUNICORN_TIMEOUT seconds per request (120), LOG_FORMAT (text or json), and PROMETHEUS_MULTIPROC_DIR:
when set, every process counts its requests in a file of that directory, emptied here at start,
so that /metrics of any process reports all of them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT') or 8000}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)  # uploads of MAX_UPLOAD_MB through a slow link
graceful_timeout = 30  # on SIGTERM a process finishes the requests it holds, within this
# No kept-alive connections: the router or ingress in front opens one per request anyway, and a process that
# stops (a rollout, a restart) then holds only requests it answers, never an idle connection a client is about
# to send a request on, which closing would lose.
keepalive = 0
control_socket_disable = True  # no socket under $HOME: the root filesystem is read-only in a pod
# Heartbeat files in memory: a container's /tmp may be a slow or small volume.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

_json = (os.environ.get("LOG_FORMAT") or "text").lower() == "json"
# In JSON mode the app logs each request itself, with its id; gunicorn's own lines become JSON too.
accesslog = None if _json else "-"
errorlog = "-"
if _json:
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.observability.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},  # the app logs requests
        },
    }


def _multiproc_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server) -> None:
    """Start from an empty metrics directory: files of a previous run would count twice."""
    folder = _multiproc_dir()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    """A process exited (killed, restarted): its counts stay, its live gauges go."""
    if _multiproc_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
