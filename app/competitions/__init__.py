"""Competition pages: list, overview, data, rules, submitting and one's submissions."""

from flask import Blueprint

bp = Blueprint("competitions", __name__)

from app.competitions import direct_uploads, export, organiser, phase_pages, routes, teams  # noqa: E402,F401
