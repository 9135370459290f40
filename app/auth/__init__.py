"""Accounts on the web: register, log in and out (with a password, or single sign-on), change password, API tokens."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402,F401
