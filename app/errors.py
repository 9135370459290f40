"""Error responses: pages for people, the JSON of CONTRACT.md under /api/."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Request, abort, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.errors import Refused

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
LARGEST_ID = 2**63 - 1  # what a database integer column holds, on SQLite and PostgreSQL alike
NUL = "\x00"


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


def refusal_error(refused: Refused):
    """The JSON error of a refusal, with its code and headers (Retry-After, Location)."""
    return api_error(refused.status, refused.message, code=refused.code, headers=refused.headers)


def json_refusals(view: Callable) -> Callable:
    """For a route outside /api/ that a page's script calls: its refusals answer as the API's JSON error."""

    @wraps(view)
    def answering_json(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Refused as refused:
            return refusal_error(refused)

    return answering_json


def _error_page(error: HTTPException, status: int, headers: dict[str, str]):
    template = f"errors/{status}.html" if status in PAGE_TEMPLATES else "errors/generic.html"
    return render_template(template, error=error), status, headers


def _http_error(error: HTTPException):
    status = error.code or 500
    # An unexpected exception reaches here as a plain 500 (Flask logged it first); its text may
    # name files, keys or queries a participant must not see, so only the generic description shows.
    headers = {name: value for name, value in error.get_headers() if name == "Retry-After"}
    if wants_json():
        return api_error(status, error.description or error.name, headers=headers)
    return _error_page(error, status, headers)


def _refused(refused: Refused):
    """A refusal no view handled itself: the API's JSON error, or the error page of its status saying why."""
    if wants_json():
        return refusal_error(refused)
    page = HTTPException(description=refused.message)
    page.code = refused.status  # its name follows the code
    return _error_page(page, refused.status, refused.headers)


def _csrf_error(error: CSRFError):
    if wants_json():
        return api_error(400, error.description, code="csrf")
    return render_template("errors/generic.html", error=error), 400


def ids_in_range(endpoint: str | None, values: dict | None) -> None:
    """An id beyond any database integer names nothing: 404 on every route, not a driver overflow."""
    for name, value in (values or {}).items():
        if isinstance(value, int) and not 0 <= value <= LARGEST_ID:
            abort(404, description=f"No {name.removesuffix('_id').replace('_', ' ')} {value}.")


def id_argument(name: str) -> int | None:
    """A query parameter naming a row by id: a whole number a database integer holds, else None."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= LARGEST_ID else None


class CheckedRequest(Request):
    """A request whose form and JSON body are checked when first read, by whichever view or extension reads them
    (so nothing is parsed before the caller is authenticated): a NUL byte in any field (PostgreSQL stores none in
    text) or JSON nested deeper than the parser goes is a 400 naming the field."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        for name, value in self.form.items(multi=True):
            if NUL in name or NUL in value:
                abort(400, description=f"The form field {_printable(name)} holds a NUL byte, which cannot be stored.")
        for name, file in self.files.items(multi=True):
            if NUL in name or NUL in (file.filename or ""):
                abort(400, description=f"The file name of {_printable(name)} holds a NUL byte, which cannot be stored.")

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The JSON body, as Flask reads it, once checked."""
        try:
            body = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            abort(400, description="The JSON body is nested too deeply to read.")
        field = _field_with_nul(body)
        if field is not None:
            where = f"The JSON field {_printable(field)}" if field else "The JSON body"
            abort(400, description=f"{where} holds a NUL byte, which cannot be stored.")
        return body


def refuse_nul_in_address() -> None:
    """A NUL byte in the path or the query string names nothing and cannot be stored: a 400 naming where it is."""
    if NUL in request.path:
        abort(400, description="The address holds a NUL byte (%00): nothing here has one in its name.")
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            abort(400, description=f"The query parameter {_printable(name)} holds a NUL byte, which cannot be stored.")


def _field_with_nul(body) -> str | None:
    """Where in a JSON document a string (a value or a key) holds a NUL byte, as `a.b[2]` ('' for the document
    itself); None when none does."""
    pending = [("", body)]
    while pending:  # a loop, not recursion: the document may be as deep as the parser allowed
        where, value = pending.pop()
        if isinstance(value, str) and NUL in value:
            return where
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else key
                if NUL in key:
                    return path
                pending.append((path, item))
        elif isinstance(value, list):
            pending.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None


def _printable(name: str) -> str:
    return "'" + name.replace(NUL, "\\0") + "'"


def register(app: Flask) -> None:
    """Install the error handlers on the app, and the checks of input no route can take."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Refused, _refused)
    app.request_class = CheckedRequest
    app.url_value_preprocessor(ids_in_range)
    app.before_request(refuse_nul_in_address)
