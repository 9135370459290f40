"""The JSON API under /api/v1, authenticated by bearer tokens and exempt from CSRF."""

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

from app.api import (  # noqa: E402,F401
    auth,
    certification,
    competitions,
    live,
    monitoring_elements,
    openapi,
    routes,
    submissions,
    suggestions,
    teams,
    uploads,
)
