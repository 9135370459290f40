"""Certification pages: labelling tasks, their runs, the certification form and reviews."""

from flask import Blueprint

bp = Blueprint("certification", __name__)

from app.certification import elements, publishing, routes, sources  # noqa: E402,F401
