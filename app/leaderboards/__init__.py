"""Leaderboard pages, charts and CSV downloads."""

from flask import Blueprint

bp = Blueprint("leaderboards", __name__)

from app.leaderboards import routes  # noqa: E402,F401
