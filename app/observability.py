"""What the web processes tell operators: request ids, request metrics, ``GET /metrics`` and JSON logs.

Every request gets an id (the ``X-Request-ID`` a proxy sent, when it looks like one, else a new one),
returned in the response's ``X-Request-ID`` and written on each log line of the request. Its duration is
counted by endpoint, method and status (``app.services.metrics``). ``/metrics`` serves the Prometheus
text format; when ``METRICS_TOKEN`` is set it answers only ``Authorization: Bearer <METRICS_TOKEN>``.
With ``LOG_FORMAT=json`` every log line is one JSON object, and each request is logged once when answered.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_request_context, request

from app.services import metrics

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_STARTED = "playground.started"
access_log = logging.getLogger("playground.requests")


def register(app: Flask) -> None:
    """Count and identify every request, serve /metrics, and write JSON logs when LOG_FORMAT asks for them."""
    if app.config.get("LOG_FORMAT") == "json":
        configure_json_logging()
    wsgi_app = app.wsgi_app

    def timed(environ, start_response):
        environ[_STARTED] = time.perf_counter()
        return wsgi_app(environ, start_response)

    app.wsgi_app = timed  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    app.before_request_funcs.setdefault(None, []).insert(0, _identify)  # before any hook that may answer early
    app.after_request(_count)
    app.add_url_rule("/metrics", "metrics", serve_metrics)


def request_id() -> str | None:
    """The current request's id, outside a request None."""
    return g.get("request_id") if has_request_context() else None


def _identify() -> None:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


def _count(response: Response) -> Response:
    started = request.environ.get(_STARTED)
    seconds = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.endpoint or "unmatched"  # a 404 off every route: one label, whatever the path
    metrics.observe_request(endpoint, request.method, response.status_code, seconds)
    identifier = g.get("request_id")
    if identifier is None:  # a hook ahead of ours answered: the request is still named
        identifier = g.request_id = uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = identifier
    if current_app.config.get("LOG_FORMAT") == "json":
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "endpoint": endpoint,
                "duration_ms": round(seconds * 1000, 2),
                "remote_addr": request.remote_addr,
            },
        )
    return response


def serve_metrics() -> Response:
    """Prometheus metrics of the whole deployment; only for the bearer of METRICS_TOKEN when it is set."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            return Response(
                "Metrics need Authorization: Bearer <METRICS_TOKEN>.\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body, content_type = metrics.render()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's id, any extra fields."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        identifier = getattr(record, "request_id", None) or request_id()
        if identifier:
            line["request_id"] = identifier
        line.update({key: value for key, value in record.__dict__.items() if key not in self._STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every logger's records to stderr as JSON lines (once per process, however many apps it creates)."""
    root = logging.getLogger()
    if any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel(level)  # RQ adds no text handler of its own to loggers that reach this one
