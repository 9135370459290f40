"""Error responses: pages for people, the JSON of CONTRACT.md under /api/."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

# Codes a script can branch on, by HTTP status.
ERROR_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
PAGE_TEMPLATES = {403, 404, 500}


def wants_json() -> bool:
    """Whether this request is an API call, answered in JSON."""
    return request.path.startswith("/api/")


def api_error(status: int, message: str, code: str | None = None, headers: dict | None = None):
    """A JSON error response ``{"error": {"code", "message"}}``."""
    response = jsonify(error={"code": code or ERROR_CODES.get(status, "error"), "message": message})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def refusal_error(refused):
    """The JSON error of a refusal that carries a message, a status and, maybe, seconds to retry after."""
    headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
    return api_error(refused.status, refused.message, headers=headers)


def _http_error(error: HTTPException):
    status = error.code or 500
    # An unexpected exception reaches here as a plain 500 (Flask logged it first); its text may
    # name files, keys or queries a participant must not see, so only the generic description shows.
    headers = {name: value for name, value in error.get_headers() if name == "Retry-After"}
    if wants_json():
        return api_error(status, error.description or error.name, headers=headers)
    template = f"errors/{status}.html" if status in PAGE_TEMPLATES else "errors/generic.html"
    return render_template(template, error=error), status, headers


def _csrf_error(error: CSRFError):
    if wants_json():
        return api_error(400, error.description, code="csrf")
    return render_template("errors/generic.html", error=error), 400


def register(app: Flask) -> None:
    """Install the error handlers on the app."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
