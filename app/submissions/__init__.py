"""Submission pages: one submission's scores and charts, live status, final selection."""

from flask import Blueprint

bp = Blueprint("submissions", __name__)

from app.submissions import routes  # noqa: E402,F401
